// Package store is the one owner of Dialtone's BadgerDB. Nothing else imports badger.
//
// It owns the domain types (Tenant, Department, User, Extension, ExternalNumber, Phone,
// Session, AuditEvent, and the records the protocol packages add: bindings, discovered
// phones, flex sessions), the key layout below, the secondary indexes, uniqueness rules, the
// secrets kept at rest (key file, encrypted SIP passwords, keyed PIN hashes, password
// hashes) and the change-event feed that caches (provisioning renders, the registrar's
// credentials, the LDAP directory) follow.
//
// Password hashes a person chose are argon2id (64 MiB each); Secrets runs every one in a
// bounded gate (internal/ratelimit.Gate: one per two cores, 1 s patience, one check per
// account at a time), and HashPassword, CheckPassword and SpendPasswordCheck answer
// ratelimit.ErrBusy instead of queueing without end, so a login flood costs at most the
// gate's size × 64 MiB. Each hash's slot is held until a collection has taken its memory
// back.
//
// It does not own HTTP, SIP, LDAP or TFTP, permissions (admin decides who may call what),
// or rendering.
//
// # Values
//
// Every value is one version byte (currently 1) followed by the record as JSON, so the
// format can evolve without a migration step. Index values are plain bytes (an id or a
// "tenant/id" pair), never JSON.
//
// # Key layout
//
// The key file ({data}/dialtone.key, KeyFileName) holds the master key the sealed secrets
// and keyed hashes derive from; it is not in BadgerDB. The keys, by the functions that
// build them (the file that owns each group has the same list in its comment):
//
//	tenant/{slug}                        Tenant
//	idx/token/{provisioning-token}       -> slug  (the current token and, until its
//	                                              grace ends, the one before a rotation)
//	idx/sipdomain/{domain}               -> slug
//	t/{slug}/dept/{id}                   Department
//	t/{slug}/deptname/{lower(name)}      -> department id
//	t/{slug}/user/{id}                   User
//	t/{slug}/email/{lower(email)}        -> user id        (unique within the tenant)
//	idx/login/{lower(email)}/{slug}      -> user id        (login by email across tenants)
//	t/{slug}/photo/{user-id}             version byte + JPEG (photo.go)
//	t/{slug}/ext/{number}                Extension         (unique within the tenant)
//	idx/sipuser/{sip-username}           -> slug/number    (SIP usernames are global; a phone's guest account too)
//	t/{slug}/did/{e164}                  ExternalNumber    (unique within the tenant)
//	phone/{mac}                          Phone             (a MAC is one device: global)
//	t/{slug}/phone/{mac}                 -> ""             (the tenant's phones, for listing)
//	t/{slug}/userphone/{user}/{mac}      -> ""             (phones assigned to a user)
//	session/{sha256(token)}              Session           (TTL)
//	t/{slug}/usersession/{user}/{sha256} -> ""             (TTL; a user's sessions, to end them)
//	t/{slug}/audit/{nanos-hex}           AuditEvent        (swept after audit_retention_days)
//	t/{slug}/reg/{aor}                   []Binding         (TTL: the latest expiry; binding.go)
//	t/{slug}/flex/{mac}                  FlexSession       (flex.go, with flexuser/ and flexdue/)
//	t/{slug}/flexuser/{user}[/{mac}]     -> ""             (phones a user is logged in at)
//	flexdue/{until-hex}/{slug}/{mac}     -> ""             (auto-logout queue, in time order)
//	t/{slug}/pinfail/{src|ext}/{id}      PINFailures       (TTL: wrong flex PINs per source and per extension)
//	t/{slug}/mail/{id}                   OutMail           (mail.go, with maildue/, usermail/, link/)
//	maildue/{next-attempt-hex}/{slug}/{id} -> ""           (the send queue, in time order)
//	t/{slug}/usermail/{user}/{id}        -> ""             (a user's queued mail)
//	link/{sha256(token)}                 PasswordLink      (TTL)
//	t/{slug}/userlink/{user}/{sha256}    -> ""             (TTL; a user's links)
//	t/{slug}/discovered/{mac}            Discovered        (provision.go, with model/, firmware/, provlog)
//	t/{slug}/model/{make}/{MODEL}        ModelProfile
//	t/{slug}/firmware/{name}             Firmware          (bytes under {data}/firmware/{slug}/)
//	t/{slug}/provlog/{slot}              ProvisionLogEntry (a ring of ProvisionLogSize slots)
//	t/{slug}/provlogseq                  next slot of the ring
//	t/{slug}/deviceca/{id}               DeviceCA          (vendor CAs vouching for phones' device certificates)
//	t/{slug}/call/{start-hex}{hash}      CallRecord        (cdr.go; swept after call_history_days)
//	t/{slug}/usercall/{user}/{call-id}   -> ""             (the calls a user made or took; gone with the user)
//
// A User carries the BLF and speed-dial keys of their phones (keys.go, SetUserKeys); a
// ModelProfile its firmware target, a staged firmware with its MACs or percentage
// (StagedMAC, FirmwareFor) and the previous target; a Tenant its action_rate, the pace of
// remote resyncs and reboots (ActionPace).
//
// # PINs and the audit log
//
// A tenant's PIN policy (pin_min_length, default 6, 4 to 12) is checked when a PIN is set
// (CheckNewPIN: long enough, not a run such as counting up or down, not a repeat, not the
// user's own extension) by an admin, the user or an import, and generated PINs have the
// policy's length; PINs set before stay valid until changed. SweepAudit drops audit events
// older than the tenant's audit_retention_days (default 400); SweepCalls drops call records
// older than its call_history_days (default 90).
//
// Every write that touches an index does so in the same transaction as the record and
// checks uniqueness there; transactions are retried on badger.ErrConflict. After a commit
// the store publishes one Change per touched record to its subscribers, in commit order,
// before the writing call returns, so a cache that drops entries on a change never serves
// a stale file to the next request.
//
// Commit order is kept across writers: a commit with changes takes a ticket under the
// same lock as Badger's commit timestamp (CommitWith queues the write before it returns,
// so the lock is not held while the write lands), and tickets publish one at a time, in
// order. Two quick updates of one user so reach the directory oldest first, whichever
// writer wakes first. A commit whose sync to disk fails is still published (it is
// committed and readable). A subscriber's panic is contained (internal/crash), and the
// subscriber then gets an OpReload change to load what it keeps again, so a missed change
// does not leave a cache stale until a restart.
//
// ResetPasswordByEmail (resetpassword.go) is the operator's way back in: a generated
// password for a login (in a tenant, or the one tenant that has the email), sessions
// ended, audited. ResolveModel (phonemodel.go) finds a model in the model table in any
// case, or names the three closest by edit distance.
package store
