return Stork.Cli.CliApp.Run(args, Console.Out, Console.Error);
