// SIP transactions (RFC 3261 §17, RFC 6026): see the doc comments of each machine.
