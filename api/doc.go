// Package api holds the supervisor's API types, one package per group and
// version; NewScheme registers all of them at once, together with the Cluster
// API types the in-process Cluster API providers serve and convert.
//
// It must hold no behaviour: reconcilers, webhooks and clients live in the
// rooms that use these types.
package api
