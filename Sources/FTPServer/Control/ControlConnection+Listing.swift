import FTPProtocol
import Foundation
import NIOCore
import VirtualFS

extension ControlConnection {
    /// The three listing commands' formats.
    enum ListingFormat {
        /// LIST: `ls -l` lines.
        case long
        /// NLST: names only.
        case names
        /// MLSD: RFC 3659 facts.
        case machine
    }

    /// LIST, NLST and MLSD: the listing streams page by page onto the data connection.
    func list(_ argument: String?, format: ListingFormat) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument ?? ".") else { return }
        let single: FileInfo?
        let listing: DirectoryListing?
        do {
            let info = try await fileSystem.info(path)
            if info.isDirectory {
                listing = try await fileSystem.list(path)
                single = nil
            } else {
                guard format != .machine else {
                    // RFC 3659 §7.2.2: MLSD of a file is an error; MLST is for files.
                    await self.closeDataSetup()
                    await self.reply(FTPReply(501, "\(FTPReply.quoted(path)) is not a directory; use MLST."))
                    return
                }
                listing = nil
                single = info
            }
        } catch {
            await self.closeDataSetup()
            await self.fail(error, path: path, operation: "list")
            return
        }
        guard let data = await self.openDataConnection() else { return }
        await self.reply(FTPReply(150, "Here comes the directory listing."))
        let now = Int64(Date().timeIntervalSince1970)
        let facts = self.session.facts
        let outcome = await self.runSendingTransfer("LIST \(path)", on: data) { sender, transfers in
            if let single {
                let buffer = self.listingBuffer([single], format: format, facts: facts, now: now)
                try await sender.send(buffer)
                transfers.addBytes(buffer.readableBytes)
            } else if let listing {
                var pages = listing.makeAsyncIterator()
                while true {
                    let page: [FileInfo]?
                    do {
                        page = try await pages.next()
                    } catch {
                        throw StorageError(underlying: error)
                    }
                    guard let page else { break }
                    let buffer = self.listingBuffer(page, format: format, facts: facts, now: now)
                    try await sender.send(buffer)
                    transfers.addBytes(buffer.readableBytes)
                }
            }
            try await sender.finish()
        }
        await self.finishTransfer(outcome, verb: "LIST", path: path)
    }

    /// STAT with a path: the LIST lines on the control connection. - SeeAlso: RFC 959 §4.1.3
    func statusListing(_ argument: String) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
        let now = Int64(Date().timeIntervalSince1970)
        do {
            let info = try await fileSystem.info(path)
            var lines = ["Status of \(path):"]
            if info.isDirectory {
                for try await page in try await fileSystem.list(path) {
                    lines += page.map { self.listingEntry($0).listLine(now: now) }
                }
            } else {
                lines.append(self.listingEntry(info).listLine(now: now))
            }
            lines.append("End of status.")
            await self.reply(FTPReply(213, lines: lines))
        } catch {
            await self.fail(error, path: path, operation: "stat")
        }
    }

    private func listingBuffer(_ page: [FileInfo], format: ListingFormat, facts: MachineListingFacts, now: Int64)
        -> ByteBuffer
    {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(page.count * (format == .names ? 32 : 96))
        // The `perm` fact depends only on the user and the kind of entry: two strings for the whole page.
        let machinePermissions = format == .machine && facts.contains(.perm)
        let directoryFacts = machinePermissions ? self.permissions.machineListingFacts(isDirectory: true) : nil
        let fileFacts = machinePermissions ? self.permissions.machineListingFacts(isDirectory: false) : nil
        for info in page {
            switch format {
            case .names:
                buffer.writeString(info.name)
            case .long:
                self.listingEntry(info, permissionFacts: nil).writeListLine(now: now, to: &buffer)
            case .machine:
                self.listingEntry(info, permissionFacts: info.isDirectory ? directoryFacts : fileFacts)
                    .writeMachineListing(facts: facts, to: &buffer)
            }
            buffer.writeStaticString("\r\n")
        }
        return buffer
    }
}
