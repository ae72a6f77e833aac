package admin

import (
	"net/netip"
	"strings"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/store"
)

// Forgot password (the console's "forgot your password?"): POST /api/v1/auth/forgot-password
// {"email"} answers 202 whatever the address, so nobody learns which addresses have an
// account. When the address is the login of accounts that may log in, each is sent the
// reset mail (a one-time set-password link, as an admin's reset with mail sends); the
// password itself is not touched, so a stranger asking cannot lock anyone out.
//
// Bounded twice with ratelimit.Strikes: each source may ask forgotPerSource times in
// forgotWindow (then 429 for forgotBlock), and each address is mailed at most
// forgotPerAddress times in forgotWindow (further asks are answered 202 and mail
// nothing), so nobody can flood a mailbox through the appliance.
const (
	forgotPerSource  = 5
	forgotPerAddress = 3
	forgotWindow     = time.Hour
	forgotBlock      = time.Hour
)

type forgotLimits struct {
	bySource  *ratelimit.Strikes[netip.Addr]
	byAddress *ratelimit.Strikes[string]
}

func newForgotLimits(now func() time.Time) forgotLimits {
	return forgotLimits{
		bySource: ratelimit.NewStrikes[netip.Addr](ratelimit.Policy{Limit: forgotPerSource, Window: forgotWindow,
			Block: forgotBlock, MaxKeys: 100_000, Name: "admin-forgot-password"}, now),
		byAddress: ratelimit.NewStrikes[string](ratelimit.Policy{Limit: forgotPerAddress, Window: forgotWindow,
			Block: forgotBlock, MaxKeys: 100_000}, now),
	}
}

type forgotBody struct {
	Email string `json:"email"`
}

// forgotAnswer is the one answer every accepted request gets.
var forgotAnswer = map[string]string{"message": "if the address belongs to an account, a mail with a link to set a new password is on its way"}

func (a *API) forgotPassword(r *request) (any, error) {
	src := sourceKey(r.source)
	if blocked, until := a.forgot.bySource.Blocked(src); blocked {
		return nil, &Problem{Status: 429, Code: "throttled", Message: "too many password reset requests from your address; try again later",
			RetryAfter: max(time.Until(until), time.Second)}
	}
	var in forgotBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if email == "" || len(email) > 254 || !strings.Contains(email, "@") {
		return nil, badRequest("email", "an email address is required")
	}
	if a.cfg.Welcome == nil {
		return nil, unavailable("mail")
	}
	if a.forgot.bySource.Strike(src) {
		a.log.Warn("password reset requests blocked after repeated asks", "source", r.source)
	}
	r.status = 202
	if blocked, _ := a.forgot.byAddress.Blocked(email); blocked {
		return forgotAnswer, nil
	}
	a.forgot.byAddress.Strike(email)
	var cands []store.User
	if err := a.view(func(tx *store.Tx) (err error) { cands, err = tx.UsersByLogin(email); return err }); err != nil {
		return nil, err
	}
	for _, u := range cands {
		if u.Role == store.RoleNone || u.Email == "" {
			continue
		}
		if err := a.cfg.Welcome.QueueReset(u.Tenant, u.ID); err != nil {
			a.log.Error("queueing a reset mail", "tenant", u.Tenant, "user", u.ID, "err", err)
			continue
		}
		err := a.update(func(tx *store.Tx) error {
			return r.audit(tx, u.Tenant, "auth.forgot_password", "user/"+u.ID, u.ID, nil, map[string]any{"delivery": "mail"})
		})
		if err != nil {
			return nil, err
		}
	}
	return forgotAnswer, nil
}
