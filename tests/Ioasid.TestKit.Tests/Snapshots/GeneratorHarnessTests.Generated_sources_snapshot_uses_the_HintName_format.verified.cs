//HintName: GenerateHelloAttribute.g.cs
namespace TestKitGen
{
    [System.AttributeUsage(System.AttributeTargets.Class)]
    internal sealed class GenerateHelloAttribute : System.Attribute { }
}

//HintName: Greeter.g.cs
namespace App
{
partial class Greeter
{
    public string Hello() => "Hello from Greeter";
}
}
