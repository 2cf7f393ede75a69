import FTPProtocol
import Foundation
import Logging
import VirtualFS

extension ControlConnection {
    func changeDirectory(_ argument: String) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
        do {
            guard try await fileSystem.info(path).isDirectory else {
                throw FileSystemError.notADirectory(path)
            }
            self.workingDirectory = path
            await self.reply(FTPReply(250, "\"\(path)\" is the current directory."))
        } catch {
            await self.fail(error, path: path, operation: "cwd")
        }
    }

    func makeDirectory(_ argument: String) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
        guard await self.checkNewName(path) else { return }
        do {
            try await fileSystem.makeDirectory(path)
            self.logger.info("directory created", metadata: ["ftp.path": "\(path)"])
            await self.reply(FTPReply(257, "\(FTPReply.quoted(path)) directory created."))
        } catch {
            await self.fail(error, path: path, operation: "mkdir")
        }
    }

    func removeDirectory(_ argument: String) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
        guard path != "/" else {
            await self.reply(FTPReply(550, "Can't remove the root directory."))
            return
        }
        do {
            try await fileSystem.removeDirectory(path)
            if self.workingDirectory == path || self.workingDirectory.hasPrefix(path + "/") {
                self.workingDirectory = FTPPath.parent(of: path)
            }
            self.logger.info("directory removed", metadata: ["ftp.path": "\(path)"])
            await self.reply(FTPReply(250, "Directory removed."))
        } catch {
            await self.fail(error, path: path, operation: "rmdir")
        }
    }

    func delete(_ argument: String) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
        do {
            try await fileSystem.removeFile(path)
            self.logger.info("file removed", metadata: ["ftp.path": "\(path)"])
            await self.reply(FTPReply(250, "File removed."))
        } catch {
            await self.fail(error, path: path, operation: "delete")
        }
    }

    func renameFrom(_ argument: String) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
        guard path != "/" else {
            await self.reply(FTPReply(550, "Can't rename the root directory."))
            return
        }
        do {
            _ = try await fileSystem.info(path)
            self.session.renameSourceAccepted(path)
            await self.reply(FTPReply(350, "Ready for destination name."))
        } catch {
            await self.fail(error, path: path, operation: "rnfr")
        }
    }

    func rename(from source: String, to argument: String) async {
        guard let (fileSystem, destination) = await self.fileSystemAndPath(argument) else { return }
        guard await self.checkNewName(destination) else { return }
        guard destination != "/" else {
            await self.reply(FTPReply(550, "Can't rename onto the root directory."))
            return
        }
        do {
            try await fileSystem.move(from: source, to: destination)
            self.logger.info("renamed", metadata: ["ftp.path": "\(source)", "ftp.destination": "\(destination)"])
            await self.reply(FTPReply(250, "Renaming ok."))
        } catch {
            await self.fail(error, path: destination, operation: "rename")
        }
    }

    func size(_ argument: String) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
        guard self.session.transferType == .binary else {
            // The size of an ASCII transfer is not the file's size: say so rather than mislead (pyftpdlib's answer).
            await self.reply(FTPReply(550, "SIZE not allowed in ASCII mode."))
            return
        }
        do {
            let info = try await fileSystem.info(path)
            guard !info.isDirectory else { throw FileSystemError.notAFile(path) }
            await self.reply(FTPReply(213, String(info.size)))
        } catch {
            await self.fail(error, path: path, operation: "size")
        }
    }

    func modificationTime(_ argument: String) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
        do {
            let info = try await fileSystem.info(path)
            guard !info.isDirectory else { throw FileSystemError.notAFile(path) }
            let seconds = Int64((info.modificationTime ?? Date(timeIntervalSince1970: 0)).timeIntervalSince1970)
            await self.reply(FTPReply(213, FTPTimestamp.format(seconds: seconds)))
        } catch {
            await self.fail(error, path: path, operation: "mdtm")
        }
    }

    func setModificationTime(_ argument: String, seconds: Int64) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
        do {
            try await fileSystem.setModificationTime(path, to: Date(timeIntervalSince1970: TimeInterval(seconds)))
            await self.reply(FTPReply(213, "Modify=\(FTPTimestamp.format(seconds: seconds)); \(path)"))
        } catch {
            await self.fail(error, path: path, operation: "mfmt")
        }
    }

    func machineListSingle(_ argument: String?) async {
        guard let (fileSystem, path) = await self.fileSystemAndPath(argument ?? ".") else { return }
        do {
            let info = try await fileSystem.info(path)
            var entry = self.listingEntry(info)
            entry.name = path
            let line = entry.machineListing(facts: self.session.facts)
            await self.reply(FTPReply(250, lines: ["Listing \(path)", line, "End"]))
        } catch {
            await self.fail(error, path: path, operation: "mlst")
        }
    }

    /// Refuses names a client could use to forge log lines or replies, or that most storage cannot hold.
    func checkNewName(_ path: String) async -> Bool {
        let name = FTPPath.name(of: path)
        if name.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) || name.utf8.count > 255 {
            await self.reply(FTPReply(553, "File name not allowed."))
            return false
        }
        return true
    }

    /// The protocol's view of an entry, with this user's MLSx permissions.
    func listingEntry(_ info: FileInfo) -> ListingEntry {
        self.listingEntry(info, permissionFacts: self.permissions.machineListingFacts(isDirectory: info.isDirectory))
    }

    /// The protocol's view of an entry, with MLSx permissions computed by the caller.
    func listingEntry(_ info: FileInfo, permissionFacts: String?) -> ListingEntry {
        let kind: ListingEntry.Kind =
            switch info.kind {
            case .file: .file
            case .directory: .directory
            case .symbolicLink: .symbolicLink
            case .other: .other
            }
        return ListingEntry(
            name: info.name,
            kind: kind,
            size: info.size,
            modificationTime: info.modificationTime.map { Int64($0.timeIntervalSince1970.rounded(.down)) },
            mode: info.mode,
            uniqueID: info.uniqueID,
            permissionFacts: permissionFacts
        )
    }
}
