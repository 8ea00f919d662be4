// Engine lives on TorchSharp's types: Tensor, Parameter, nn.Module, torch.* functions.
global using TorchSharp;
global using static TorchSharp.torch;
global using Parameter = TorchSharp.Modules.Parameter;
