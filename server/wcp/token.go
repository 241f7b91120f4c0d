package wcp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"k8s.io/utils/clock"
)

// GroupsClaim names the token's claim listing the user's groups.
const GroupsClaim = "groups"

// ErrInvalidToken wraps every reason a token is refused.
var ErrInvalidToken = errors.New("invalid token")

// Claims are a login token's claims: the registered ones and the user's
// groups (group@domain each).
type Claims struct {
	jwt.Claims
	Groups []string `json:"groups"`
}

// Identity is who the claims name.
func (c *Claims) Identity() (Identity, error) {
	user, err := ParseUsername(c.Subject)
	if err != nil || !strings.Contains(c.Subject, "@") {
		return Identity{}, fmt.Errorf("%w: subject %q is not user@domain", ErrInvalidToken, c.Subject)
	}
	id := Identity{User: user.Name, Domain: user.Domain}
	for _, g := range c.Groups {
		group, err := ParseUsername(g)
		if err != nil {
			return Identity{}, fmt.Errorf("%w: group %q is not group@domain", ErrInvalidToken, g)
		}
		id.Groups = append(id.Groups, group)
	}
	return id, nil
}

// TokenOptions say what tokens claim to be.
type TokenOptions struct {
	// IssuerURL is the https URL of the issuer (iss), which kube-apiserver's
	// JWT authenticator trusts as issuer.url.
	IssuerURL string
	// Audience is the aud claim, the authenticator's issuer.audiences.
	Audience string
	// Clock is the time; the real one when nil.
	Clock clock.PassiveClock
}

func (o TokenOptions) validate() error {
	u, err := url.Parse(o.IssuerURL)
	switch {
	case err != nil:
		return fmt.Errorf("issuer URL %q: %w", o.IssuerURL, err)
	case u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("issuer URL %q must be https://host[/path]", o.IssuerURL)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("issuer URL %q must have no query, fragment or user", o.IssuerURL)
	case strings.HasSuffix(u.Path, "/"):
		return fmt.Errorf("issuer URL %q must not end with /", o.IssuerURL)
	case o.Audience == "":
		return errors.New("the token audience is empty")
	}
	return nil
}

func (o TokenOptions) clock() clock.PassiveClock {
	if o.Clock == nil {
		return clock.RealClock{}
	}
	return o.Clock
}

// TokenIssuer signs login tokens with a KeySet's active key.
type TokenIssuer struct {
	keys *KeySet
	opts TokenOptions
}

// NewTokenIssuer returns an issuer of tokens valid for keys.TokenLifetime().
func NewTokenIssuer(keys *KeySet, o TokenOptions) (*TokenIssuer, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	return &TokenIssuer{keys: keys, opts: o}, nil
}

// Issue signs a token for id.
func (t *TokenIssuer) Issue(ctx context.Context, id Identity) (string, error) {
	key, err := t.keys.signer(ctx)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: SigningAlgorithm, Key: key.jwk},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("failed to make a signer with %s: %w", key, err)
	}
	claims, err := t.claims(id)
	if err != nil {
		return "", err
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("failed to sign the token of %s: %w", id.Subject(), err)
	}
	return raw, nil
}

func (t *TokenIssuer) claims(id Identity) (Claims, error) {
	jti, err := randomID()
	if err != nil {
		return Claims{}, err
	}
	now := t.opts.clock().Now()
	return Claims{
		Claims: jwt.Claims{
			Issuer:    t.opts.IssuerURL,
			Subject:   id.Subject(),
			Audience:  jwt.Audience{t.opts.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			Expiry:    jwt.NewNumericDate(now.Add(t.keys.TokenLifetime())),
			ID:        jti,
		},
		Groups: id.GroupNames(),
	}, nil
}

func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("failed to make a token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// TokenVerifier checks tokens the way kube-apiserver's JWT authenticator
// does: the signature against the KeySet's unexpired keys (by kid), the
// issuer, the audience, and the validity period (with a minute of leeway
// for clock skew).
type TokenVerifier struct {
	keys *KeySet
	opts TokenOptions
}

// NewTokenVerifier returns a verifier of the tokens a TokenIssuer with the
// same keys and options issues.
func NewTokenVerifier(keys *KeySet, o TokenOptions) (*TokenVerifier, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	return &TokenVerifier{keys: keys, opts: o}, nil
}

// Verify returns the claims of raw if it is valid; the error wraps
// ErrInvalidToken when the token is refused.
func (v *TokenVerifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{SigningAlgorithm})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return nil, fmt.Errorf("%w: the token names no key", ErrInvalidToken)
	}
	kid := tok.Headers[0].KeyID
	public, ok, err := v.keys.publicKey(ctx, kid)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: key %q is not one of the issuer's", ErrInvalidToken, kid)
	}
	claims := &Claims{}
	if err := tok.Claims(public, claims); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	expected := jwt.Expected{Issuer: v.opts.IssuerURL, AnyAudience: jwt.Audience{v.opts.Audience}, Time: v.opts.clock().Now()}
	if err := claims.ValidateWithLeeway(expected, clockSkew); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if claims.Expiry == nil {
		return nil, fmt.Errorf("%w: the token has no expiry", ErrInvalidToken)
	}
	return claims, nil
}
