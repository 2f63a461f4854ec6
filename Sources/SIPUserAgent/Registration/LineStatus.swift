/// A line's state as TR-104 names it (`VoiceService.{i}.SIP.Client.{i}.Status`).
public enum LineStatus: String, Sendable, Equatable, CaseIterable {
    case up = "Up"
    case initializing = "Initializing"
    case registering = "Registering"
    case deregistering = "Deregistering"
    case errorMisconfigured = "Error_Misconfigured"
    case errorNetwork = "Error_Network"
    case errorRegistration = "Error_Registration"
    case quiescent = "Quiescent"
    case disabled = "Disabled"
}
