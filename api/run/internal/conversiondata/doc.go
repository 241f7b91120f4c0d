// Package conversiondata keeps what one run.tanzu.vmware.com version cannot
// express in an annotation of the converted object, so that a round trip
// through another version loses nothing (Cluster API's conversion-data
// pattern).
//
// It owns only the annotation keys and their JSON; what goes into them is
// each version's conversion code. It must not know the API types (the
// versions import it, under api/run/internal so nothing else can).
package conversiondata
