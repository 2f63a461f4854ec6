// SIP transactions (RFC 3261 §17, RFC 6026): four pure state machines, their timers and their keys.
//
// - `InviteClientTransaction`, `NonInviteClientTransaction`, `InviteServerTransaction`,
//   `NonInviteServerTransaction`: structs around a private state; every input returns
//   `[TransactionAction]` for the driver (transmit, deliver to the TU, arm/disarm timers, report).
// - `TransactionTimers`: T1/T2/T4 and the timers derived from them; `TimerName`; `Instant`.
// - `TransactionKey`: client and server matching (§17.1.3, §17.2.3 with the RFC 2543 fallback) and
//   CANCEL matching (§9.2). The endpoint keeps the dictionaries.
