import FTPProtocol
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// libFuzzer entry: the bytes as a control line, through command parsing and, when it parses, reply encoding of the
/// values it produced. Any crash, trap or hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControlLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let line = String(validating: bytes, as: UTF8.self) else { return 0 }
    do {
        let command = try FTPCommand.parse(line)
        _ = command.description
        if let argument = command.loggableArgument {
            _ = FTPReply(550, FTPReply.quoted(argument)).encoded
            _ = FTPPath.resolve(argument, in: "/home/user")
        }
    } catch {
        _ = FTPReply(parseError: error).encoded
    }
    return 0
}

#if FUZZING
    /// libFuzzer's driver, linked in by `-sanitize=fuzzer`.
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
    ) -> CInt
#endif

/// A plain build replays the files named on the command line (a corpus, or a crash); a build with
/// `-sanitize=fuzzer -DFUZZING` hands the command line to libFuzzer (`-max_total_time=60 corpus/` and so on).
/// SwiftPM gives every executable its own entry point, so libFuzzer's `main` is not used; its driver is.
@main
struct FTPProtocolFuzzerMain {
    static func main() {
        #if FUZZING
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(runFuzzerDriver(&argc, &argv, fuzzControlLine))
        #else
            for path in CommandLine.arguments.dropFirst() {
                guard let file = fopen(path, "rb") else { continue }
                var bytes: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = fread(&buffer, 1, buffer.count, file)
                    if count <= 0 { break }
                    bytes += buffer[0..<count]
                }
                fclose(file)
                bytes.append(0)  // never an empty buffer: baseAddress is then non-nil
                _ = bytes.withUnsafeBufferPointer { fuzzControlLine($0.baseAddress!, $0.count - 1) }
            }
        #endif
    }
}
