import Logging
import ServiceLifecycle
import UnixSignals

/// Something fstpyd reloads on SIGHUP, for new sessions, without touching the sessions already open.
struct ReloadAction: Sendable {
    /// What is reloaded, for the log ("credentials file", "TLS certificate"...).
    var name: String
    /// Loads the new state and puts it in place; throws (and changes nothing) when the new state is unusable.
    var reload: @Sendable () async throws -> Void
}

/// Runs every ``ReloadAction`` on each SIGHUP, in order, until graceful shutdown. One action failing (a bad
/// credentials file) is logged as an error and the others still run; what failed keeps its previous state.
///
/// fstpyd builds the list in `FstpydCommand.reloadActions(...)`: adding a reloadable part (the TLS pair, say) is one
/// more entry there.
struct ReloadService: Service {
    var actions: [ReloadAction]
    var logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            await self.reloadAll()
        }
    }

    /// Runs every action once, logging each outcome.
    func reloadAll() async {
        self.logger.info("SIGHUP: reloading", metadata: ["fstpy.reload.parts": "\(self.actions.map(\.name))"])
        for action in self.actions {
            do {
                try await action.reload()
                self.logger.notice("reloaded", metadata: ["fstpy.reload.part": "\(action.name)"])
            } catch {
                self.logger.error(
                    "reload failed; keeping the previous one",
                    metadata: ["fstpy.reload.part": "\(action.name)", "fstpy.error": "\(error)"]
                )
            }
        }
    }
}
