Console.WriteLine("bench: being ported to TorchSharp");
