import FstpydCLI

await FstpydCommand.runFromCommandLine()
