package ai.finops.crds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Validates a custom resource against a CustomResourceDefinition's {@code openAPIV3Schema} offline,
 * mirroring kube-apiserver's structural-schema validation for the subset of OpenAPI v3 our CRDs use.
 *
 * <p>Supported: {@code type} (object, array, string, integer — integral numbers only —, number,
 * boolean), {@code nullable}, {@code enum}, {@code pattern} (unanchored find, like Go's
 * {@code MatchString}, but with {@link java.util.regex} syntax instead of RE2), {@code minimum}/
 * {@code maximum} (inclusive), {@code minItems}/{@code maxItems}, {@code minLength}/{@code maxLength},
 * {@code required}, {@code properties}, {@code additionalProperties} (schema of map values),
 * {@code items}, {@code x-kubernetes-preserve-unknown-fields} and {@code x-kubernetes-validations}
 * ({@code rule} and {@code message}, compiled with dev.cel and {@code self} typed {@code dyn}).
 *
 * <p>As in the API server: unknown fields are not errors but pruned (listed in
 * {@link Result#pruned()}, and invisible to CEL rules); {@code apiVersion}, {@code kind} and
 * {@code metadata} are always allowed at the root; and CEL rules are not evaluated at all when the
 * schema validation found a "blocking" error (wrong type, unsupported enum value, missing required
 * field, too long, too many items) — one {@code <nil>} error says so instead. Error strings follow
 * kube-apiserver's {@code field.Error} format, e.g. {@code spec.weight: Invalid value: -1: spec.weight
 * in body should be greater than or equal to 0}.
 *
 * <p>Not modelled: {@code format}, {@code default}, {@code maxProperties}, {@code allOf}/{@code
 * anyOf}/{@code oneOf}/{@code not}, list types and map keys, {@code messageExpression}, transition
 * rules ({@code oldSelf}), and CEL cost estimation (a real API server may refuse a CRD whose rules it
 * estimates too expensive, or stop a rule at run time for exceeding its budget).
 */
public final class OfflineSchemaValidator {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> ROOT_FIELDS = Set.of("apiVersion", "kind", "metadata");
    private static final String CEL_SKIPPED = "<nil>: Invalid value: \"null\": some validation rules were not checked"
            + " because the object was invalid; correct the existing errors to complete validation";

    private static final CelCompiler COMPILER = CelCompilerFactory.standardCelCompilerBuilder()
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("self", SimpleType.DYN)
            .build();
    private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();

    private final String group;
    private final String version;
    private final String kind;
    private final JsonNode schema;
    private final Map<String, CompiledRule> rules = new HashMap<>();

    /** The outcome: kube-apiserver-style errors (empty = accepted) and the paths of pruned fields. */
    public record Result(List<String> errors, List<String> pruned) {
        public Result {
            errors = List.copyOf(errors);
            pruned = List.copyOf(pruned);
        }

        /** Whether the API server would accept the manifest. */
        public boolean valid() {
            return errors.isEmpty();
        }
    }

    /** One compiled {@code x-kubernetes-validations} rule, or the reason it does not compile. */
    private record CompiledRule(CelRuntime.Program program, String compileError) {}

    /** The field.ErrorType of a schema error, which decides whether it blocks CEL evaluation. */
    private enum ErrorType {
        TYPE_INVALID(true), NOT_SUPPORTED(true), REQUIRED(true), TOO_LONG(true), TOO_MANY(true), INVALID(false);

        final boolean blocksCel;

        ErrorType(boolean blocksCel) {
            this.blocksCel = blocksCel;
        }
    }

    private OfflineSchemaValidator(JsonNode crd) {
        JsonNode spec = crd.path("spec");
        JsonNode firstVersion = spec.path("versions").path(0);
        this.group = spec.path("group").asText();
        this.version = firstVersion.path("name").asText();
        this.kind = spec.path("names").path("kind").asText();
        this.schema = firstVersion.path("schema").path("openAPIV3Schema");
        if (!schema.isObject()) {
            throw new IllegalArgumentException("CRD has no spec.versions[0].schema.openAPIV3Schema");
        }
    }

    /** A validator for the first version of the CustomResourceDefinition in {@code crdYaml}. */
    public static OfflineSchemaValidator forCrd(Path crdYaml) {
        try {
            return forCrd(YAML.readTree(crdYaml.toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A validator for the first version of the parsed CustomResourceDefinition {@code crd}. */
    public static OfflineSchemaValidator forCrd(JsonNode crd) {
        return new OfflineSchemaValidator(crd);
    }

    /** Parses {@code yaml} (one document) as a manifest. */
    public static JsonNode parseYaml(String yaml) {
        try {
            return YAML.readTree(yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Validates the manifest given as YAML text. */
    public Result validate(String manifestYaml) {
        return validate(parseYaml(manifestYaml));
    }

    /** Validates a full resource (apiVersion, kind, metadata, spec, ...) as kube-apiserver would. */
    public Result validate(JsonNode manifest) {
        Run run = new Run();
        checkTypeMeta(manifest, run);
        run.validate(manifest, schema, "");
        if (run.blocked) {
            run.errors.add(CEL_SKIPPED);
        } else {
            run.evaluateRules(manifest, schema, "");
        }
        return new Result(run.errors, run.pruned);
    }

    private void checkTypeMeta(JsonNode manifest, Run run) {
        String apiVersion = group + "/" + version;
        if (!apiVersion.equals(manifest.path("apiVersion").asText())) {
            run.errors.add("apiVersion: Invalid value: " + render(manifest.path("apiVersion"))
                    + ": must be " + quote(apiVersion));
        }
        if (!kind.equals(manifest.path("kind").asText())) {
            run.errors.add("kind: Invalid value: " + render(manifest.path("kind")) + ": must be " + quote(kind));
        }
    }

    /** The state of one validation: errors, pruned paths, and whether CEL evaluation is blocked. */
    private final class Run {
        final List<String> errors = new ArrayList<>();
        final List<String> pruned = new ArrayList<>();
        boolean blocked;

        void error(ErrorType type, String path, String body) {
            errors.add(path + ": " + body);
            blocked |= type.blocksCel;
        }

        void invalid(String path, String value, String detail) {
            error(ErrorType.INVALID, path, "Invalid value: " + value + ": " + path + " in body " + detail);
        }

        void validate(JsonNode value, JsonNode node, String path) {
            if (value.isNull()) {
                if (!node.path("nullable").asBoolean(false)) {
                    typeInvalid(value, node, path);
                }
                return;
            }
            String type = node.path("type").asText("");
            if (!type.isEmpty() && !hasType(value, type)) {
                typeInvalid(value, node, path);
                return;
            }
            checkEnum(value, node, path);
            switch (value.getNodeType()) {
                case OBJECT -> validateObject(value, node, path);
                case ARRAY -> validateArray(value, node, path);
                case STRING -> validateString(value.asText(), node, path);
                case NUMBER -> validateNumber(value, node, path);
                default -> { }
            }
        }

        private void typeInvalid(JsonNode value, JsonNode node, String path) {
            String actual = quote(jsonType(value));
            error(ErrorType.TYPE_INVALID, path, "Invalid value: " + actual + ": " + path + " in body must be of type "
                    + node.path("type").asText() + ": " + actual);
        }

        private void checkEnum(JsonNode value, JsonNode node, String path) {
            JsonNode allowed = node.path("enum");
            if (!allowed.isArray()) {
                return;
            }
            for (JsonNode candidate : allowed) {
                if (candidate.equals(value)) {
                    return;
                }
            }
            List<String> supported = new ArrayList<>();
            allowed.forEach(v -> supported.add(render(v)));
            error(ErrorType.NOT_SUPPORTED, path, "Unsupported value: " + render(value) + ": supported values: "
                    + String.join(", ", supported));
        }

        private void validateObject(JsonNode value, JsonNode node, String path) {
            for (JsonNode required : node.path("required")) {
                if (!value.has(required.asText())) {
                    error(ErrorType.REQUIRED, child(path, required.asText()), "Required value");
                }
            }
            boolean preserveUnknown = preservesUnknown(node);
            for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String fieldPath = child(path, field.getKey());
                JsonNode fieldSchema = fieldSchema(node, field.getKey());
                if (fieldSchema != null) {
                    validate(field.getValue(), fieldSchema, fieldPath);
                } else if (!preserveUnknown && !(path.isEmpty() && ROOT_FIELDS.contains(field.getKey()))) {
                    pruned.add(fieldPath);
                }
            }
        }

        private void validateArray(JsonNode value, JsonNode node, String path) {
            int size = value.size();
            if (node.has("minItems") && size < node.get("minItems").asLong()) {
                invalid(path, String.valueOf(size), "should have at least " + node.get("minItems").asLong() + " items");
            }
            if (node.has("maxItems") && size > node.get("maxItems").asLong()) {
                error(ErrorType.TOO_MANY, path, "Too many: " + size + ": must have at most " + node.get("maxItems").asLong()
                        + " items");
            }
            JsonNode items = node.path("items");
            if (items.isObject()) {
                for (int i = 0; i < size; i++) {
                    validate(value.get(i), items, path + "[" + i + "]");
                }
            }
        }

        private void validateString(String value, JsonNode node, String path) {
            int length = value.codePointCount(0, value.length());
            if (node.has("maxLength") && length > node.get("maxLength").asLong()) {
                error(ErrorType.TOO_LONG, path, "Too long: may not be more than " + node.get("maxLength").asLong()
                        + " bytes");
            }
            if (node.has("minLength") && length < node.get("minLength").asLong()) {
                invalid(path, quote(value), "should be at least " + node.get("minLength").asLong() + " chars long");
            }
            if (node.has("pattern") && !Pattern.compile(node.get("pattern").asText()).matcher(value).find()) {
                invalid(path, quote(value), "should match '" + node.get("pattern").asText() + "'");
            }
        }

        private void validateNumber(JsonNode value, JsonNode node, String path) {
            BigDecimal number = value.decimalValue();
            if (node.has("minimum") && number.compareTo(node.get("minimum").decimalValue()) < 0) {
                invalid(path, render(value), "should be greater than or equal to " + render(node.get("minimum")));
            }
            if (node.has("maximum") && number.compareTo(node.get("maximum").decimalValue()) > 0) {
                invalid(path, render(value), "should be less than or equal to " + render(node.get("maximum")));
            }
        }

        /** Evaluates every {@code x-kubernetes-validations} rule on the (structurally valid) value. */
        void evaluateRules(JsonNode value, JsonNode node, String path) {
            if (value.isNull()) {
                return;
            }
            for (JsonNode validation : node.path("x-kubernetes-validations")) {
                evaluateRule(validation, value, node, path);
            }
            if (value.isObject()) {
                value.fields().forEachRemaining(field -> {
                    JsonNode fieldSchema = fieldSchema(node, field.getKey());
                    if (fieldSchema != null) {
                        evaluateRules(field.getValue(), fieldSchema, child(path, field.getKey()));
                    }
                });
            } else if (value.isArray() && node.path("items").isObject()) {
                for (int i = 0; i < value.size(); i++) {
                    evaluateRules(value.get(i), node.get("items"), path + "[" + i + "]");
                }
            }
        }

        private void evaluateRule(JsonNode validation, JsonNode value, JsonNode node, String path) {
            String rule = validation.path("rule").asText();
            String message = validation.hasNonNull("message") ? validation.get("message").asText() : "failed rule: " + rule;
            String prefix = "Invalid value: " + quote(jsonType(value)) + ": ";
            CompiledRule compiled = rules.computeIfAbsent(rule, OfflineSchemaValidator::compile);
            if (compiled.compileError() != null) {
                error(ErrorType.INVALID, path, prefix + "rule compile error: " + compiled.compileError() + " (rule: " + rule + ")");
                return;
            }
            Object result;
            try {
                result = compiled.program().eval(Map.of("self", toCel(value, node)));
            } catch (Exception e) {
                error(ErrorType.INVALID, path, prefix + "rule evaluation error: " + e.getMessage() + " (rule: " + rule + ")");
                return;
            }
            if (!(result instanceof Boolean)) {
                error(ErrorType.INVALID, path, prefix + "rule evaluated to " + result + ", not a bool (rule: " + rule + ")");
            } else if (!(Boolean) result) {
                error(ErrorType.INVALID, path, prefix + message);
            }
        }
    }

    private static CompiledRule compile(String rule) {
        try {
            CelValidationResult result = COMPILER.compile(rule);
            if (result.hasError()) {
                return new CompiledRule(null, result.getErrorString());
            }
            CelAbstractSyntaxTree ast = result.getAst();
            if (!SimpleType.BOOL.equals(ast.getResultType()) && !SimpleType.DYN.equals(ast.getResultType())) {
                return new CompiledRule(null, "rule must evaluate to bool, but its type is " + ast.getResultType().name());
            }
            return new CompiledRule(RUNTIME.createProgram(ast), null);
        } catch (Exception e) {
            return new CompiledRule(null, e.getMessage());
        }
    }

    /**
     * Converts a JSON value to what CEL sees as {@code self}: objects become maps (without the fields
     * the schema does not know: they were pruned), arrays lists, integers {@code Long} and other
     * numbers {@code Double}.
     */
    static Object toCel(JsonNode value, JsonNode node) {
        return switch (value.getNodeType()) {
            case OBJECT -> {
                Map<String, Object> map = new LinkedHashMap<>();
                value.fields().forEachRemaining(field -> {
                    JsonNode fieldSchema = node == null ? null : fieldSchema(node, field.getKey());
                    if (fieldSchema != null || node == null || preservesUnknown(node)) {
                        map.put(field.getKey(), toCel(field.getValue(), fieldSchema));
                    }
                });
                yield map;
            }
            case ARRAY -> {
                JsonNode items = node == null ? null : node.get("items");
                List<Object> list = new ArrayList<>();
                value.forEach(item -> list.add(toCel(item, items)));
                yield list;
            }
            case NUMBER -> isIntegral(value) ? (Object) value.longValue() : (Object) value.doubleValue();
            case BOOLEAN -> value.booleanValue();
            case NULL -> com.google.protobuf.NullValue.NULL_VALUE;
            default -> value.asText();
        };
    }

    /** The schema of field {@code name} of an object: its property, else additionalProperties; null if unknown. */
    private static JsonNode fieldSchema(JsonNode node, String name) {
        JsonNode property = node.path("properties").get(name);
        if (property != null && property.isObject()) {
            return property;
        }
        JsonNode additional = node.get("additionalProperties");
        return additional != null && additional.isObject() ? additional : null;
    }

    private static boolean preservesUnknown(JsonNode node) {
        return node.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
    }

    private static boolean hasType(JsonNode value, String type) {
        return switch (type) {
            case "object" -> value.isObject();
            case "array" -> value.isArray();
            case "string" -> value.isTextual();
            case "boolean" -> value.isBoolean();
            case "number" -> value.isNumber();
            case "integer" -> value.isNumber() && isIntegral(value);
            default -> true;
        };
    }

    /** Integral numbers, including {@code 2.0}: JSON does not tell them apart, nor does kube-openapi. */
    private static boolean isIntegral(JsonNode value) {
        if (value.isIntegralNumber()) {
            return true;
        }
        BigDecimal decimal = value.decimalValue();
        return decimal.signum() == 0 || decimal.stripTrailingZeros().scale() <= 0;
    }

    private static String jsonType(JsonNode value) {
        JsonNodeType type = value.getNodeType();
        return switch (type) {
            case OBJECT -> "object";
            case ARRAY -> "array";
            case STRING -> "string";
            case BOOLEAN -> "boolean";
            case NUMBER -> isIntegral(value) ? "integer" : "number";
            case NULL, MISSING -> "null";
            default -> type.name().toLowerCase();
        };
    }

    /** Renders a value the way Go's field.Error does: strings quoted, numbers plain (10.0 as 10). */
    private static String render(JsonNode value) {
        if (value.isMissingNode() || value.isNull()) {
            return "\"null\"";
        }
        if (value.isTextual()) {
            return quote(value.asText());
        }
        if (value.isNumber()) {
            return isIntegral(value) ? value.decimalValue().toBigInteger().toString()
                    : value.decimalValue().stripTrailingZeros().toPlainString();
        }
        return value.toString();
    }

    private static String quote(String text) {
        return text.chars()
                .mapToObj(c -> switch (c) {
                    case '"' -> "\\\"";
                    case '\\' -> "\\\\";
                    case '\n' -> "\\n";
                    case '\t' -> "\\t";
                    default -> String.valueOf((char) c);
                })
                .collect(Collectors.joining("", "\"", "\""));
    }

    private static String child(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }
}
