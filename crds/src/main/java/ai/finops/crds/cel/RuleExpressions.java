package ai.finops.crds.cel;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import dev.cel.runtime.CelVariableResolver;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Compiles and evaluates RoutingRule {@code when} expressions (CEL).
 *
 * <p>Declared variables:
 *
 * <ul>
 *   <li>{@code model} (string): the model as the client sent it;
 *   <li>{@code headers} (map(string, string)): request headers, names lower-cased;
 *   <li>{@code virtualKey} (string): the VirtualKey's name;
 *   <li>{@code team} (string): the VirtualKey's team, or "";
 *   <li>{@code api} (string): {@code "anthropic"} or {@code "openai"}: the client's API surface;
 *   <li>{@code path} (string): the request path;
 *   <li>{@code budget} (map(string, double)): the key's tightest applicable budget,
 *       {@code budget.usedRatio} (spent and reserved over the limit: 0 to 1, above 1 once overdrawn; 0
 *       without a budget) and {@code budget.remainingUsd} (infinity without a budget).
 * </ul>
 *
 * <p>The standard CEL environment is available: {@code ==}, {@code &&}, {@code ||}, {@code !},
 * {@code in} (e.g. {@code "x-team" in headers}), string functions {@code startsWith},
 * {@code endsWith}, {@code contains}, {@code matches} (RE2, partial match as in the CEL spec; linear
 * time), {@code size}, and the standard macros ({@code has}, {@code all}, {@code exists}, ...).
 *
 * <p><b>Compile once, evaluate per request.</b> {@link #compile} parses and type-checks at config load
 * (off the event loop) and builds the {@link CelRuntime.Program}. {@link Compiled#test} is
 * thread-safe and allocation-light; it is meant to run on a Netty event loop.
 *
 * <p><b>Evaluation errors are "no match".</b> A CEL evaluation error (most commonly reading a header
 * that is absent: {@code headers["user-agent"]} raises "no such key") makes {@link Compiled#test}
 * return false instead of throwing. So {@code headers["user-agent"].startsWith("claude-cli")} is false
 * when the header is missing, and so is its negation {@code !headers["user-agent"].startsWith(...)}:
 * a rule whose condition cannot be evaluated never matches. CEL's {@code &&}/{@code ||} absorb errors
 * when the other side decides ({@code false && error} is false, {@code true || error} is true). Write
 * {@code !("user-agent" in headers) || ...} to match requests without the header explicitly; use
 * {@link Compiled#evaluate} to see the error (dry-run, explain). Missing variables evaluate as
 * {@code ""} (strings) or an empty map ({@code headers}).
 */
public final class RuleExpressions {
    /** Longest accepted expression, in code points. */
    public static final int MAX_EXPRESSION_LENGTH = 4096;

    /** The declared variable names, in declaration order. */
    public static final List<String> VARIABLES = List.of("model", "headers", "virtualKey", "team", "api", "path", "budget");

    /** {@code budget} of a key without any budget. */
    public static final Map<String, Double> NO_BUDGET = Map.of("usedRatio", 0.0, "remainingUsd", Double.POSITIVE_INFINITY);

    private static final CelOptions OPTIONS = CelOptions.current()
            .maxExpressionCodePointSize(MAX_EXPRESSION_LENGTH)
            .enableRegexPartialMatch(true)
            .comprehensionMaxIterations(10_000)
            .build();

    private static final CelCompiler COMPILER = CelCompilerFactory.standardCelCompilerBuilder()
            .setOptions(OPTIONS)
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("model", SimpleType.STRING)
            .addVar("headers", MapType.create(SimpleType.STRING, SimpleType.STRING))
            .addVar("virtualKey", SimpleType.STRING)
            .addVar("team", SimpleType.STRING)
            .addVar("api", SimpleType.STRING)
            .addVar("path", SimpleType.STRING)
            .addVar("budget", MapType.create(SimpleType.STRING, SimpleType.DOUBLE))
            .build();

    private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder()
            .setOptions(OPTIONS)
            .build();

    private RuleExpressions() {}

    /**
     * Parses, type-checks and plans {@code expression}.
     *
     * @throws IllegalArgumentException with CEL's error text (line and column) when the expression
     *     does not parse or type-check, or when its type is not {@code bool}
     */
    public static Compiled compile(String expression) {
        if (expression == null || expression.isBlank()) {
            throw new IllegalArgumentException("CEL expression is empty");
        }
        CelValidationResult result = COMPILER.compile(expression);
        if (result.hasError()) {
            throw new IllegalArgumentException("invalid CEL expression: " + result.getErrorString());
        }
        CelAbstractSyntaxTree ast;
        try {
            ast = result.getAst();
        } catch (CelValidationException e) {
            throw new IllegalArgumentException("invalid CEL expression: " + e.getMessage(), e);
        }
        if (!SimpleType.BOOL.equals(ast.getResultType())) {
            throw new IllegalArgumentException("CEL expression must evaluate to bool, but its type is "
                    + ast.getResultType().name());
        }
        try {
            return new Compiled(expression, RUNTIME.createProgram(ast));
        } catch (CelEvaluationException e) {
            throw new IllegalArgumentException("invalid CEL expression: " + e.getMessage(), e);
        }
    }

    /** Compiles and returns CEL's error text, or empty when {@code expression} is valid. */
    public static Optional<String> check(String expression) {
        try {
            compile(expression);
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * The outcome of one evaluation: whether it matched and, when evaluation failed (so it did not
     * match), CEL's error message.
     */
    public record Evaluation(boolean matched, String error) {}

    /** A compiled, type-checked {@code when} expression. Immutable and thread-safe. */
    public static final class Compiled {
        private final String source;
        private final CelRuntime.Program program;

        private Compiled(String source, CelRuntime.Program program) {
            this.source = source;
            this.program = program;
        }

        /** The expression as written. */
        public String source() {
            return source;
        }

        /**
         * Whether the expression is true for {@code variables} (names as in {@link #VARIABLES};
         * {@code headers} a {@code Map<String, String>} with lower-case names). Never throws: an
         * evaluation error (e.g. an absent header) is false. Thread-safe.
         */
        public boolean test(Map<String, ?> variables) {
            try {
                return Boolean.TRUE.equals(program.eval(resolver(variables)));
            } catch (CelEvaluationException | RuntimeException e) {
                return false;
            }
        }

        /** Like {@link #test}, but says why an evaluation failed (for dry-runs and explanations). */
        public Evaluation evaluate(Map<String, ?> variables) {
            try {
                Object value = program.eval(resolver(variables));
                return new Evaluation(Boolean.TRUE.equals(value), null);
            } catch (CelEvaluationException | RuntimeException e) {
                Throwable cause = e.getCause();
                return new Evaluation(false, e.getMessage()
                        + (cause != null && cause != e ? " (" + cause.getClass().getSimpleName() + ")" : ""));
            }
        }

        private static CelVariableResolver resolver(Map<String, ?> variables) {
            return name -> {
                Object value = variables == null ? null : variables.get(name);
                if (value == null) {
                    value = "headers".equals(name) ? Map.of() : "budget".equals(name) ? NO_BUDGET : "";
                }
                return Optional.of(value);
            };
        }

        @Override
        public String toString() {
            return source;
        }
    }
}
