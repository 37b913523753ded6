using System.Reflection;
using System.Reflection.Emit;

namespace Stork.Tests.Architecture;

/// <summary>
/// Which namespace uses which, read from the compiled assemblies: base types, interfaces, fields, signatures, locals and
/// every type, method or field token in the IL of every method (lambdas and iterators included, as the nested types the
/// compiler makes of them). Documentation references and <c>nameof</c> leave no trace in IL and are not dependencies.
/// </summary>
internal static class NamespaceGraph
{
    private const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>
    /// Edges between the nodes <paramref name="nodeOf"/> maps namespaces to (null: left out), self-edges left out.
    /// </summary>
    public static Dictionary<string, SortedSet<string>> Build(IEnumerable<Assembly> assemblies, Func<string, string?> nodeOf)
    {
        var edges = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var type in assemblies.SelectMany(a => a.GetTypes()))
        {
            if (nodeOf(NamespaceOf(type)) is not { } from)
            {
                continue;
            }

            if (!edges.TryGetValue(from, out var targets))
            {
                edges[from] = targets = new SortedSet<string>(StringComparer.Ordinal);
            }

            var used = new HashSet<Type>();
            foreach (var t in Referenced(type))
            {
                Expand(t, used);
            }

            foreach (var t in used)
            {
                if (nodeOf(NamespaceOf(t)) is { } to && to != from)
                {
                    targets.Add(to);
                }
            }
        }

        return edges;
    }

    /// <summary>The namespaces of every cycle: strongly connected components of more than one namespace (Tarjan).</summary>
    public static List<List<string>> Cycles(IReadOnlyDictionary<string, SortedSet<string>> edges)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var cycles = new List<List<string>>();
        int next = 0;

        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            onStack.Add(v);
            foreach (string w in edges.TryGetValue(v, out var ws) ? ws : [])
            {
                if (!index.TryGetValue(w, out int wIndex))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                {
                    low[v] = Math.Min(low[v], wIndex);
                }
            }

            if (low[v] == index[v])
            {
                var component = new List<string>();
                string w;
                do
                {
                    w = stack.Pop();
                    onStack.Remove(w);
                    component.Add(w);
                }
                while (w != v);
                if (component.Count > 1)
                {
                    component.Sort(StringComparer.Ordinal);
                    cycles.Add(component);
                }
            }
        }

        foreach (string v in edges.Keys.Order(StringComparer.Ordinal))
        {
            if (!index.ContainsKey(v))
            {
                Visit(v);
            }
        }

        return cycles;
    }

    private static string NamespaceOf(Type type)
    {
        while (type.DeclaringType is { } outer && !type.IsGenericParameter)
        {
            type = outer;
        }

        return type.Namespace ?? "";
    }

    private static void Expand(Type? type, HashSet<Type> into)
    {
        if (type is null || type.IsGenericParameter || !into.Add(type))
        {
            return;
        }

        if (type.HasElementType)
        {
            Expand(type.GetElementType(), into);
        }

        if (type.IsGenericType)
        {
            foreach (var a in type.GetGenericArguments())
            {
                Expand(a, into);
            }

            if (!type.IsGenericTypeDefinition)
            {
                Expand(type.GetGenericTypeDefinition(), into);
            }
        }
    }

    private static IEnumerable<Type?> Referenced(Type type)
    {
        yield return type.BaseType;
        foreach (var i in type.GetInterfaces())
        {
            yield return i;
        }

        foreach (var f in type.GetFields(Declared))
        {
            yield return f.FieldType;
        }

        foreach (var p in type.GetProperties(Declared))
        {
            yield return p.PropertyType;
        }

        foreach (var m in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (m is MethodInfo mi)
            {
                yield return mi.ReturnType;
            }

            foreach (var p in m.GetParameters())
            {
                yield return p.ParameterType;
            }

            foreach (var t in InBody(type, m))
            {
                yield return t;
            }
        }
    }

    // The locals and the type, field and method tokens of a method's IL.
    private static IEnumerable<Type?> InBody(Type type, MethodBase method)
    {
        var body = method.GetMethodBody();
        if (body?.GetILAsByteArray() is not { } il)
        {
            yield break;
        }

        foreach (var local in body.LocalVariables)
        {
            yield return local.LocalType;
        }

        var typeArgs = type.IsGenericType ? type.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            var op = il[i] == 0xFE ? OpCodesByValue[unchecked((short)(0xFE00 | il[i + 1]))] : OpCodesByValue[il[i]];
            i += op.Size;
            int operand = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, i)),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok)
            {
                var member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArgs, methodArgs);
                switch (member)
                {
                    case Type t:
                        yield return t;
                        break;
                    case FieldInfo f:
                        yield return f.DeclaringType;
                        yield return f.FieldType;
                        break;
                    case MethodBase m:
                        yield return m.DeclaringType;
                        if (m.IsGenericMethod)
                        {
                            foreach (var a in m.GetGenericArguments())
                            {
                                yield return a;
                            }
                        }

                        break;
                }
            }

            i += operand;
        }
    }
}
