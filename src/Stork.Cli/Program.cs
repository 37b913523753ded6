using var interrupts = Stork.Cli.Interrupts.Listen();
return Stork.Cli.CliApp.Run(args, Console.Out, Console.Error, interrupts);
