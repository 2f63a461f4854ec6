// SIPDialog: dialog state (RFC 3261 §12) and INVITE sessions. Pure: no sockets, clocks or threads.
import SIPCore
