import FstpydCLI

FstpydCommand.adoptEventLoopsAsGlobalExecutor()
await FstpydCommand.runFromCommandLine()
