import FTPServer
import Testing

@Suite struct PermissionsTests {
    @Test(
        arguments: [
            ("e", Permissions.changeDirectory), ("l", .list), ("r", .retrieve), ("a", .append), ("d", .delete),
            ("f", .rename), ("m", .makeDirectory), ("w", .store), ("M", .changeMode), ("T", .setModificationTime),
        ] as [(String, Permissions)]
    )
    func eachLetterIsOnePermission(letter: String, permission: Permissions) throws {
        #expect(try Permissions(letters: letter) == permission)
        #expect(permission.letters == letter)
    }

    @Test(
        arguments: [
            ("", Permissions()),
            ("elr", .readOnly),
            ("rle", .readOnly),
            ("eellrr", .readOnly),
            ("elradfmwMT", .all),
            ("TMwmfdarle", .all),
            ("ew", [.changeDirectory, .store]),
        ] as [(String, Permissions)]
    )
    func parsesLetters(letters: String, expected: Permissions) throws {
        #expect(try Permissions(letters: letters) == expected)
    }

    @Test(
        arguments: [
            (Permissions(), ""),
            ([.store, .changeDirectory], "ew"),
            ([.setModificationTime, .list, .changeMode], "lMT"),
            (.readOnly, "elr"),
            (.all, "elradfmwMT"),
        ] as [(Permissions, String)]
    )
    func printsCanonicalLetters(permissions: Permissions, letters: String) {
        #expect(permissions.letters == letters)
        #expect(permissions.description == letters)
        #expect("\(permissions)" == letters)
    }

    @Test func everyCombinationRoundTrips() throws {
        for rawValue in UInt16(0)..<1024 {
            let permissions = Permissions(rawValue: rawValue)
            #expect(try Permissions(letters: permissions.letters) == permissions)
        }
    }

    @Test(
        arguments: [
            ("x", "x"), ("elrx", "x"), ("E", "E"), ("t", "t"), ("el r", " "), ("é", "é"),
        ] as [(String, Character)]
    )
    func refusesUnknownLetters(letters: String, unknown: Character) {
        #expect(throws: PermissionsError(letter: unknown)) { try Permissions(letters: letters) }
    }

    @Test(
        arguments: [
            ("x", "unknown permission letter 'x' (allowed: elradfmwMT)"),
            ("\t", "unknown permission letter '\\u{9}' (allowed: elradfmwMT)"),
        ] as [(Character, String)]
    )
    func errorNamesTheLetter(letter: Character, description: String) {
        #expect(PermissionsError(letter: letter).description == description)
    }
}
