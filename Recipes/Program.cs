Console.WriteLine("recipes: being ported to TorchSharp");
