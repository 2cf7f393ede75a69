import FTPProtocol

extension FTPCommand {
    /// The permission letter a command needs, in one table (pyftpdlib's). `nil`: none.
    package var requiredPermission: Permissions? {
        switch self {
        case .changeDirectory, .changeToParentDirectory: .changeDirectory
        case .list, .nameList, .machineListDirectory, .machineListSingle, .size, .modificationTime: .list
        case .status(let path): path == nil ? nil : .list
        case .retrieve: .retrieve
        case .append: .append
        case .delete, .removeDirectory: .delete
        case .renameFrom, .renameTo: .rename
        case .makeDirectory: .makeDirectory
        case .store, .storeUnique: .store
        case .site(.chmod): .changeMode
        case .setModificationTime: .setModificationTime
        default: nil
        }
    }
}

extension Permissions {
    /// MLSx `perm` facts for an entry, from what this user may do (RFC 3659 §7.5.5).
    package func machineListingFacts(isDirectory: Bool) -> String {
        var facts = ""
        if isDirectory {
            if self.contains(.store) { facts += "c" }
            if self.contains(.delete) { facts += "d" }
            if self.contains(.changeDirectory) { facts += "e" }
            if self.contains(.rename) { facts += "f" }
            if self.contains(.list) { facts += "l" }
            if self.contains(.makeDirectory) { facts += "m" }
            if self.contains(.delete) { facts += "p" }
        } else {
            if self.contains(.append) { facts += "a" }
            if self.contains(.delete) { facts += "d" }
            if self.contains(.rename) { facts += "f" }
            if self.contains(.retrieve) { facts += "r" }
            if self.contains(.store) { facts += "w" }
        }
        return facts
    }
}
