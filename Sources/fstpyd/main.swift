import FstpydCLI

await FstpydCommand.main()
