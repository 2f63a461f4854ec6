// SIPUserAgent: per-line registration client and call legs on the SIPEndpoint.
import SIPCore
