import Testing
import SIPServer

@Suite struct SIPDateTests {
    @Test func rfc1123Format() {
        #expect(SIPDate.string(sinceEpoch: .zero) == "Thu, 01 Jan 1970 00:00:00 GMT")
        // RFC 3261 §20.17's example date.
        #expect(SIPDate.string(sinceEpoch: .seconds(1_289_690_940)) == "Sat, 13 Nov 2010 23:29:00 GMT")
        #expect(SIPDate.string(sinceEpoch: .seconds(951_782_400)) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(SIPDate.string(sinceEpoch: .seconds(1_700_000_000) + .milliseconds(999)) == "Tue, 14 Nov 2023 22:13:20 GMT")
        #expect(SIPDate.string(sinceEpoch: .seconds(-1)) == "Wed, 31 Dec 1969 23:59:59 GMT")
        #expect(SIPDate.string(sinceEpoch: .seconds(4_107_542_399)) == "Sun, 28 Feb 2100 23:59:59 GMT")
    }
}
