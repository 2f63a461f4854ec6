// SIPDialog: dialog state (RFC 3261 §12) and INVITE sessions. Pure: no sockets, clocks or threads.
//
// - `Dialog`, `DialogID`: the dialog of RFC 3261 §12 (creation as UAC and UAS, target refresh,
//   in-dialog requests per §12.2.1.1 with loose and strict routing, §12.2.2 checks).
// - `InviteSession`: one call leg (UAC or UAS) as a machine: commands and received messages in,
//   `SessionAction`s out (messages to send, timers to arm, reports for the application). It covers
//   RFC 3261 §13–§15 (INVITE, CANCEL, re-INVITE and glare, BYE), RFC 3262 (PRACK, as UAC), RFC 3311
//   (UPDATE, received and as a session refresh) and RFC 4028 (session timers).
// - `RedirectPolicy`: how far to follow 3xx responses (hop limit, loops).
// Time is SIPTransaction's `Instant`: the caller passes `now` in, every `.arm` names an instant.
import SIPCore
