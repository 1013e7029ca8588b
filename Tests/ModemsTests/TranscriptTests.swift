import Testing
@testable import Modems

let transcriptFiles = [
    "ec600e-bringup.txt", "ec600e-tcp-buffer.txt", "ec600e-binary-and-urcs.txt", "ec600e-dns-ping-errors.txt",
    "ec600e-udp-service.txt", "ec600e-udp-service-edges.txt",
    "bc26-bringup.txt", "bc26-tcp.txt",
    "sim7028-bringup.txt", "sim7028-tcp-buffer.txt", "sim7028-udp-dns.txt", "sim7028-send-pipeline.txt",
    "ml307r-tcp-buffer.txt", "mn316-udp-hex.txt",
    "fail-nosim.txt", "fail-noreg.txt", "fail-garbage.txt",
]

@Suite struct TranscriptTests {
    @Test(arguments: transcriptFiles)
    func wholeMessages(_ file: String) {
        replay(Transcript.load(file))
    }

    /// The same transcripts with the modem's bytes arriving one at a time and in threes.
    @Test(arguments: transcriptFiles)
    func smallChunks(_ file: String) {
        replay(Transcript.load(file), chunk: 1)
        replay(Transcript.load(file), chunk: 3)
    }
}
