import FTPServer
import Testing

@Suite struct CredentialsEntryTests {
    static let entry = CredentialsEntry(
        user: "alice",
        secret: "hunter2",
        home: "/alice",
        permissions: .readOnly,
        loginMessage: "Hi",
        logoutMessage: "Bye"
    )

    @Test func descriptionRedactsTheSecret() {
        #expect(
            Self.entry.description
                == #"CredentialsEntry(user: "alice", secret: <redacted>, home: "/alice", permissions: "elr", "#
                + #"loginMessage: "Hi", logoutMessage: "Bye")"#
        )
        #expect(
            CredentialsEntry(user: "bob", secret: "x", home: "/", permissions: []).description
                == #"CredentialsEntry(user: "bob", secret: <redacted>, home: "/", permissions: "")"#
        )
    }

    @Test func noRenderingShowsTheSecret() {
        var dumped = ""
        dump(Self.entry, to: &dumped)
        let renderings = [
            Self.entry.description,
            Self.entry.debugDescription,
            "\(Self.entry)",
            String(reflecting: Self.entry),
            "\([Self.entry])",
            "\(Optional(Self.entry) as Any)",
            dumped,
        ]
        for rendering in renderings {
            #expect(!rendering.contains("hunter2"), "\(rendering)")
            #expect(rendering.contains("<redacted>"), "\(rendering)")
        }
    }
}
