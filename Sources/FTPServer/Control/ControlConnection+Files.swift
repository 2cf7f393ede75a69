import FTPProtocol
import Logging
import NIOCore
import NIOSSL
import VirtualFS

extension ControlConnection {
    /// How a transfer ended.
    enum TransferOutcome {
        case completed
        case aborted
        /// Nothing moved on the data connection for the stalled-transfer timeout; the watchdog closed it.
        case stalled
        /// The data connection failed (client gone, reset).
        case connectionFailed(any Error)
        /// The storage failed.
        case storageFailed(any Error)
        /// A protected data connection was refused or failed its TLS handshake: this reply says why.
        case tlsRefused(FTPReply)
    }

    func retrieve(_ argument: String, from offset: Int64) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
        let reader: any FileReader
        let size: Int64
        do {
            // Opening refuses a directory; a reader that learned the size while opening (a local fstat) saves an
            // info call, that is a trip to the thread pool or the store, per download.
            reader = try await fileSystem.openForReading(path, from: offset)
            do {
                if let known = reader.size {
                    size = known
                } else {
                    size = try await fileSystem.info(path).size
                }
            } catch {
                try? await reader.close()
                throw error
            }
            guard offset <= size else {
                try? await reader.close()
                await self.closeDataSetup()
                await self.reply(FTPReply(554, "Invalid REST parameter: the file has \(size) bytes."))
                return
            }
        } catch {
            await self.closeDataSetup()
            await self.fail(error, path: path, operation: "retrieve")
            return
        }
        guard let data = await self.openDataConnection() else {
            try? await reader.close()
            return
        }
        let ascii = self.session.transferType == .ascii
        await self.reply(
            FTPReply(
                150,
                "Opening \(ascii ? "ASCII" : "BINARY") mode data connection for \(FTPPath.name(of: path)) (\(size - offset) bytes)."
            )
        )
        let outcome = await self.runSendingTransfer("RETR \(path)", on: data) { sender, transfers in
            if !ascii, data.supportsFileRegions, let source = reader.sendfileSource {
                // One region for the whole file, or, under a download limit, regions sized by the bucket (still
                // sendfile), each paced before it goes.
                let throttle = self.bandwidth.download
                var offset = source.offset
                while offset < source.end {
                    let length = Int(min(source.end - offset, Int64(throttle.sliceSize)))
                    try await throttle.pace(length, for: transfers)
                    let region = FileRegion(
                        fileHandle: source.handle,
                        readerIndex: Int(offset),
                        endIndex: Int(offset) + length
                    )
                    try await sender.send(region)
                    transfers.addBytes(length)
                    offset += Int64(length)
                }
                return
            }
            var converter = ASCIIConverter.ToNetwork()
            while true {
                let chunk: ByteBuffer?
                do {
                    chunk = try await reader.read()
                } catch {
                    throw StorageError(underlying: error)
                }
                guard let chunk else { break }
                let out = ascii ? converter.convert(chunk) : chunk
                try await self.bandwidth.download.send(out, for: transfers) { try await sender.send($0) }
                transfers.addBytes(out.readableBytes)
            }
            try await sender.finish()
        }
        await self.finishTransfer(outcome, verb: "RETR", path: path)
        // After the 226: every byte has been handed to the socket by now, and the client need not wait for this.
        try? await reader.close()
    }

    func store(_ argument: String, mode: WriteMode) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
        guard await self.checkNewName(path) else {
            await self.closeDataSetup()
            return
        }
        await self.store(fileSystem: fileSystem, path: path, mode: mode, preliminary: nil)
    }

    /// STOU: store under a name that does not exist yet (RFC 1123 §4.1.2.9: the 150 reply names it).
    func storeUnique(_ base: String?) async {
        guard let (fileSystem, directoryOrFile) = await self.fileSystemAndPath(base ?? ".") else { return }
        var directory = self.workingDirectory
        var stem = "ftp-upload"
        if base != nil {
            if let info = try? await fileSystem.info(directoryOrFile), info.isDirectory {
                directory = directoryOrFile
            } else {
                directory = FTPPath.parent(of: directoryOrFile)
                stem = FTPPath.name(of: directoryOrFile)
            }
        }
        guard await self.checkNewName(FTPPath.join(directory, stem)) else {
            await self.closeDataSetup()
            return
        }
        for attempt in 0..<100 {
            let name = attempt == 0 && base != nil ? stem : "\(stem).\(UInt32.random(in: 0...UInt32.max))"
            let path = FTPPath.join(directory, name)
            if (try? await fileSystem.info(path)) != nil { continue }
            await self.store(fileSystem: fileSystem, path: path, mode: .replace, preliminary: "FILE: \(name)")
            return
        }
        await self.closeDataSetup()
        await self.reply(FTPReply(450, "Could not find a unique name."))
    }

    private func store(fileSystem: any VirtualFileSystem, path: String, mode: WriteMode, preliminary: String?) async {
        let writer: any FileWriter
        do {
            switch mode {
            case .append where !fileSystem.capabilities.contains(.append),
                .resume where !fileSystem.capabilities.contains(.resume):
                throw FileSystemError.unsupported(path)
            default:
                break
            }
            // A directory at `path` is refused by the backend (the contract of openForWriting).
            writer = try await fileSystem.openForWriting(path, mode: mode)
        } catch {
            await self.closeDataSetup()
            await self.fail(error, path: path, operation: "store")
            return
        }
        guard let data = await self.openDataConnection() else {
            await writer.abort()
            return
        }
        let ascii = self.session.transferType == .ascii
        await self.reply(FTPReply(150, preliminary ?? "Ok to send data."))
        var outcome = await self.runReceivingTransfer("STOR \(path)", on: data) { inbound, transfers in
            var converter = ASCIIConverter.FromNetwork()
            do {
                for try await chunk in inbound {
                    transfers.addBytes(chunk.readableBytes)
                    try await self.bandwidth.upload.pace(chunk.readableBytes, for: transfers)
                    let out = ascii ? converter.convert(chunk) : chunk
                    do {
                        try await writer.write(out)
                    } catch {
                        throw StorageError(underlying: error)
                    }
                }
            } catch NIOSSLError.uncleanShutdown where data.tlsHandshakeSucceeded {
                // The client ended its upload with a TCP FIN and no TLS close_notify. Most clients do (vsftpd's
                // strict_ssl_read_eof is off by default for this reason), so this is the end of the data, as in
                // clear FTP, where a FIN is all there is.
            }
            if ascii, let tail = converter.finish() {
                do { try await writer.write(tail) } catch { throw StorageError(underlying: error) }
            }
        }
        if case .completed = outcome, !self.channel.isActive {
            // The data ended but the client has gone: it never saw the upload finish, so don't publish it.
            outcome = .aborted
        }
        if case .completed = outcome {
            do {
                try await writer.commit()
            } catch {
                outcome = .storageFailed(error)
            }
        }
        if case .completed = outcome {} else { await writer.abort() }
        let verb: String
        switch mode {
        case .append: verb = "APPE"
        default: verb = preliminary == nil ? "STOR" : "STOU"
        }
        await self.finishTransfer(outcome, verb: verb, path: path)
    }

    /// Runs a download's body with the data connection registered for ABOR/STAT, then closes the connection.
    ///
    /// A download ends with a half-close, so the client sees the end of the data at once; the server does not wait for
    /// the client's own close, because many clients read the 226 before they close the data socket.
    func runSendingTransfer(
        _ description: String,
        on data: DataConnection,
        _ body: (inout DataConnection.Sender, TransferControl) async throws -> Void
    ) async -> TransferOutcome {
        let transfers = self.transfers
        return await self.superviseTransfer(description, on: data) {
            try await data.send { sender in try await body(&sender, transfers) }
        }
    }

    /// Runs an upload's body with the data connection's inbound bytes, registered for ABOR/STAT, then closes the
    /// connection.
    func runReceivingTransfer(
        _ description: String,
        on data: DataConnection,
        _ body: (NIOAsyncChannelInboundStream<ByteBuffer>, TransferControl) async throws -> Void
    ) async -> TransferOutcome {
        let transfers = self.transfers
        return await self.superviseTransfer(description, on: data) {
            try await data.receive { inbound in try await body(inbound, transfers) }
        }
    }

    /// Runs `move` under the stalled-transfer watchdog with the transfer registered, and says how it ended.
    private func superviseTransfer(
        _ description: String,
        on data: DataConnection,
        _ move: () async throws -> Void
    ) async -> TransferOutcome {
        let transfers = self.transfers
        transfers.begin(description, channel: data.channel)
        let started = ContinuousClock.now
        let watchdog = StalledTransferWatchdog.start(
            channel: data.channel,
            timeout: self.configuration.timeouts.stalledTransfer,
            transfer: transfers
        )
        var outcome = TransferOutcome.completed
        do {
            try await move()
        } catch let error as StorageError {
            outcome = .storageFailed(error.underlying)
        } catch {
            outcome = .connectionFailed(error)
        }
        let stalled = watchdog.stop()
        let (aborted, bytes) = transfers.end()
        self.lastTransferBytes = bytes
        self.lastTransferDuration = ContinuousClock.now - started
        if aborted {
            outcome = .aborted
        } else if stalled {
            outcome = .stalled
        }
        switch data.tlsStatus?.outcome {
        case .refusedWithoutReuse:
            outcome = .tlsRefused(
                FTPReply(
                    522,
                    "Data connection refused: it must resume the TLS session of the control connection (session reuse is required)."
                )
            )
        case .timedOut:
            outcome = .tlsRefused(FTPReply(425, "The TLS handshake on the data connection did not finish in time."))
        default:
            break
        }
        return outcome
    }

    /// Sends the final reply of a transfer and logs it: one line per transfer with the verb, path, bytes, duration
    /// and result (user and client come with the session's logger).
    func finishTransfer(_ outcome: TransferOutcome, verb: String, path: String) async {
        self.emitTransferEvent(outcome, verb: verb, path: path)
        let reply: FTPReply
        switch outcome {
        case .completed:
            reply = FTPReply(226, "Transfer complete.")
        case .aborted:
            self.lastTransferAborted = true
            reply = FTPReply(426, "Connection closed; transfer aborted.")
        case .stalled:
            let seconds = self.configuration.timeouts.stalledTransfer.logText
            reply = FTPReply(426, "No data moved for \(seconds) seconds; transfer aborted.")
        case .connectionFailed:
            reply = FTPReply(426, "Connection closed; transfer aborted.")
        case .storageFailed(let error):
            reply = FTPReply(error, path: path)
        case .tlsRefused(let refusal):
            reply = refusal
        }
        // The line's metadata (the path escaped character by character among it) is built only when the line is
        // written: below info, thousands of small transfers would build it for nothing.
        if self.logger.logLevel <= .info {
            self.logTransfer(outcome, verb: verb, path: path, replyCode: reply.code)
        }
        await self.reply(reply)
    }

    private func logTransfer(_ outcome: TransferOutcome, verb: String, path: String, replyCode: Int) {
        var metadata: Logger.Metadata = [
            "ftp.verb": "\(verb)",
            "ftp.path": "\(LogText.sanitized(path, limit: 1024))",
            "ftp.bytes": "\(self.lastTransferBytes)",
            "ftp.duration": "\(self.lastTransferDuration.logText)s",
            "ftp.reply": "\(replyCode)",
        ]
        let message: Logger.Message
        switch outcome {
        case .completed:
            (message, metadata["ftp.result"]) = ("transfer complete", "ok")
        case .aborted:
            (message, metadata["ftp.result"]) = ("transfer aborted", "aborted")
        case .stalled:
            (message, metadata["ftp.result"]) = ("transfer stalled", "stalled")
            metadata["ftp.timeout"] = "\(self.configuration.timeouts.stalledTransfer.logText)s"
        case .connectionFailed(let error):
            (message, metadata["ftp.result"]) = ("transfer failed", "failed")
            metadata["ftp.error"] = "\(error)"
        case .storageFailed(let error):
            (message, metadata["ftp.result"]) = ("transfer failed", "storage-error")
            metadata["ftp.error"] = "\(error)"
        case .tlsRefused:
            (message, metadata["ftp.result"]) = ("transfer refused", "tls-refused")
        }
        self.logger.info(message, metadata: metadata)
    }
}

/// A failure of the storage during a transfer, told apart from a failure of the data connection.
struct StorageError: Error {
    var underlying: any Error
}
