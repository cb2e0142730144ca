package ai.finops.crds;

import ai.finops.crds.validation.Problem;
import ai.finops.crds.validation.ResourceValidator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Reads resource YAML: files of one or more documents separated by {@code ---}.
 *
 * <ul>
 *   <li>{@code finops.ai/v1alpha1} {@code ProviderDeployment}, {@code RoutingRule}, {@code VirtualKey},
 *       {@code Budget}, {@code McpServer}: bound to the resource classes. Unknown fields are problems (with the field path and
 *       {@code file:line:column}), as are duplicate keys, and floats where integers are expected.
 *   <li>{@code v1} {@code Secret}: its name and values ({@code stringData} as is, {@code data}
 *       base64-decoded; {@code stringData} wins, as in Kubernetes) as {@link SecretValues}.
 *   <li>Any other kind (e.g. {@code GatewaySettings}): returned as a {@link JsonNode} for the caller.
 *       Within the {@code finops.ai} group, only the five resources and {@link #GENERIC_FINOPS_KINDS}
 *       are known; any other kind there is a problem (a typo in {@code kind}).
 * </ul>
 *
 * <p>Empty documents are skipped. Problems (YAML syntax, missing or unknown kind, wrong apiVersion,
 * unknown field, bad value) are returned, never thrown; each names the source file and, where known,
 * line and column. Problem messages never quote Secret values, nor the YAML text around a syntax error.
 *
 * <p>{@code ${ENV}} references are not resolved while reading; the gateway calls {@link #expandEnv}
 * on Secret values (see {@link Result#toResourceSet}).
 */
public final class ResourceYaml {
    /** Kinds of the {@code finops.ai} group that are returned as generic documents. */
    public static final Set<String> GENERIC_FINOPS_KINDS = Set.of("GatewaySettings");
    /** Kinds bound to resource classes. */
    public static final Map<String, Class<? extends io.fabric8.kubernetes.api.model.HasMetadata>> RESOURCE_KINDS = Map.of(
            ResourceValidator.PROVIDER_DEPLOYMENT, ProviderDeployment.class,
            ResourceValidator.ROUTING_RULE, RoutingRule.class,
            ResourceValidator.VIRTUAL_KEY, VirtualKey.class,
            ResourceValidator.BUDGET, Budget.class,
            ResourceValidator.MCP_SERVER, McpServer.class);
    private static final Set<String> SECRET_FIELDS = Set.of("apiVersion", "kind", "metadata", "data", "stringData", "type", "immutable");

    private static final YAMLMapper MAPPER = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();
    private static final Map<Class<?>, ObjectReader> READERS = Map.of(
            ProviderDeployment.class, MAPPER.readerFor(ProviderDeployment.class),
            RoutingRule.class, MAPPER.readerFor(RoutingRule.class),
            VirtualKey.class, MAPPER.readerFor(VirtualKey.class),
            Budget.class, MAPPER.readerFor(Budget.class),
            McpServer.class, MAPPER.readerFor(McpServer.class));

    private ResourceYaml() {}

    /** The mapper used for reading (YAML, strict): also handy to write resources back as YAML. */
    public static YAMLMapper mapper() {
        return MAPPER;
    }

    /** A Secret's name and values. {@link #toString()} never shows the values. */
    public record SecretValues(String name, Map<String, String> values) {
        public SecretValues {
            values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        }

        @Override
        public String toString() {
            return "Secret[" + name + ", keys=" + values.keySet() + "]";
        }
    }

    /** What was read: the documents, in order, and every problem. */
    public record Result(List<ParsedDocument> documents, List<Problem> problems) {
        public Result {
            documents = List.copyOf(documents);
            problems = List.copyOf(problems);
        }

        /** Whether there was no problem. */
        public boolean ok() {
            return problems.isEmpty();
        }

        /** This result followed by {@code other}. */
        public Result plus(Result other) {
            List<ParsedDocument> docs = new ArrayList<>(documents);
            docs.addAll(other.documents);
            List<Problem> all = new ArrayList<>(problems);
            all.addAll(other.problems);
            return new Result(docs, all);
        }

        /** The typed resources of one class, in document order. */
        public <T> List<T> resources(Class<T> type) {
            return documents.stream().flatMap(d -> d.as(type).stream()).toList();
        }

        /** The documents of a generic {@code kind} (e.g. {@code GatewaySettings}). */
        public List<ParsedDocument> ofKind(String kind) {
            return documents.stream().filter(d -> kind.equals(d.kind())).toList();
        }

        /**
         * Builds a {@link ResourceSet} from the documents. Secret values are expanded with {@link
         * #expandEnv} when {@code env} is non-null (standalone mode: {@code System::getenv}); an unset
         * variable or a Secret name defined twice is added to {@code problems}. The problems of this
         * result are not copied to {@code problems}; validate the set with {@link ResourceValidator}.
         */
        public ResourceSet toResourceSet(Function<String, String> env, ResourceSet.SecretChecks checks, List<Problem> problems) {
            Map<String, Map<String, String>> secrets = new LinkedHashMap<>();
            Map<String, String> secretSources = new LinkedHashMap<>();
            for (ParsedDocument d : documents) {
                if (!(d.resource() instanceof SecretValues s)) {
                    continue;
                }
                String previous = secretSources.putIfAbsent(s.name(), d.location());
                if (previous != null) {
                    problems.add(new Problem("Secret", s.name(), "metadata.name",
                            d.location() + ": a Secret of the same name is already defined at " + previous));
                    continue;
                }
                Map<String, String> values = new LinkedHashMap<>();
                s.values().forEach((key, value) -> {
                    if (env == null) {
                        values.put(key, value);
                    } else {
                        values.put(key, expandEnv(value, env, variable -> problems.add(new Problem("Secret", s.name(),
                                "stringData." + key, d.location() + ": environment variable " + variable + " is not set"))));
                    }
                });
                secrets.put(s.name(), values);
            }
            return new ResourceSet(resources(ProviderDeployment.class), resources(RoutingRule.class), resources(VirtualKey.class),
                    resources(Budget.class), resources(McpServer.class), secrets, checks);
        }
    }

    /** Reads one file; an unreadable file is a problem, not an exception. */
    public static Result readAll(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return new Result(List.of(), List.of(new Problem(null, null, null, file + ": cannot read file: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()))));
        }
        return read(text, file.toString());
    }

    /**
     * Reads the {@code *.yaml} and {@code *.yml} files directly in {@code directory} (not recursive;
     * following symbolic links, so a mounted ConfigMap or Secret volume works), in name order,
     * skipping names that start with {@code .} (kubelet's {@code ..data} and timestamped directories).
     */
    public static Result readDirectory(Path directory) {
        List<Path> files;
        try (Stream<Path> list = Files.list(directory)) {
            files = list.filter(p -> {
                String n = p.getFileName().toString();
                return !n.startsWith(".") && (n.endsWith(".yaml") || n.endsWith(".yml")) && Files.isRegularFile(p);
            }).sorted().toList();
        } catch (IOException | RuntimeException e) {
            return new Result(List.of(), List.of(new Problem(null, null, null, directory + ": cannot list directory: "
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()))));
        }
        Result result = new Result(List.of(), List.of());
        for (Path f : files) {
            result = result.plus(readAll(f));
        }
        return result;
    }

    /** Reads YAML text; {@code sourceName} (a file name) is used in locations and problems. */
    public static Result read(String yamlText, String sourceName) {
        List<ParsedDocument> docs = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        YAMLFactory factory = MAPPER.getFactory();
        Binder binder = new Binder(factory, yamlText);
        try (JsonParser trees = factory.createParser(yamlText)) {
            int index = 0;
            JsonToken token;
            while (true) {
                try {
                    token = trees.nextToken();
                    if (token == null) {
                        break;
                    }
                    int docIndex = index++;
                    JsonLocation start = trees.currentTokenLocation();
                    JsonNode tree = MAPPER.readTree(trees);
                    if (tree == null || tree.isNull() || tree.isMissingNode()) {
                        continue;
                    }
                    document(tree, docIndex, start.getLineNr(), sourceName, binder, docs, problems);
                } catch (JsonProcessingException e) {
                    problems.add(syntaxProblem(e, sourceName));
                    break;
                }
            }
        } catch (IOException e) {
            problems.add(new Problem(null, null, null, sourceName + ": cannot read: " + e.getClass().getSimpleName()));
        } finally {
            binder.close();
        }
        return new Result(docs, problems);
    }

    private static void document(JsonNode tree, int index, int line, String source, Binder binder,
            List<ParsedDocument> docs, List<Problem> problems) {
        String where = source + ":" + line;
        if (!tree.isObject()) {
            problems.add(new Problem(null, null, null, where + ": document " + (index + 1) + " is not a mapping (expected apiVersion, kind, metadata, spec)"));
            return;
        }
        String apiVersion = text(tree.get("apiVersion"));
        String kind = text(tree.get("kind"));
        JsonNode metadata = tree.get("metadata");
        String name = metadata == null ? null : text(metadata.get("name"));
        if (kind == null || kind.isEmpty()) {
            problems.add(new Problem(null, name, "kind", where + ": missing kind"));
            return;
        }
        Class<? extends io.fabric8.kubernetes.api.model.HasMetadata> type = RESOURCE_KINDS.get(kind);
        if (type != null) {
            if (!Resources.API_VERSION.equals(apiVersion)) {
                problems.add(new Problem(kind, name, "apiVersion", where + ": " + (apiVersion == null ? "missing apiVersion" : "apiVersion "
                        + quote(apiVersion) + " is not supported") + "; expected " + Resources.API_VERSION));
                return;
            }
            try {
                Object value = binder.bind(index, READERS.get(type));
                docs.add(new ParsedDocument(source, index, line, apiVersion, kind, name, value, tree));
            } catch (JsonProcessingException e) {
                problems.add(bindingProblem(e, kind, name, source, line));
            } catch (IOException e) {
                problems.add(new Problem(kind, name, null, where + ": cannot read: " + e.getClass().getSimpleName()));
            }
            return;
        }
        if ("Secret".equals(kind)) {
            if (!"v1".equals(apiVersion)) {
                problems.add(new Problem(kind, name, "apiVersion", where + ": " + (apiVersion == null ? "missing apiVersion"
                        : "apiVersion " + quote(apiVersion) + " is not supported") + "; expected v1"));
                return;
            }
            SecretValues secret = secret(tree, name, where, problems);
            if (secret != null) {
                docs.add(new ParsedDocument(source, index, line, apiVersion, kind, name, secret, tree));
            }
            return;
        }
        if (apiVersion != null && (apiVersion.equals(Resources.GROUP) || apiVersion.startsWith(Resources.GROUP + "/"))
                && !GENERIC_FINOPS_KINDS.contains(kind)) {
            problems.add(new Problem(kind, name, "kind", where + ": unknown kind " + quote(kind) + " in " + apiVersion
                    + " (known: " + new java.util.TreeSet<>(RESOURCE_KINDS.keySet()) + ", " + GENERIC_FINOPS_KINDS + ")"));
            return;
        }
        docs.add(new ParsedDocument(source, index, line, apiVersion, kind, name, tree, tree));
    }

    private static SecretValues secret(JsonNode tree, String name, String where, List<Problem> problems) {
        int before = problems.size();
        String problem = ResourceValidator.checkName(name, false);
        if (problem != null) {
            problems.add(new Problem("Secret", name, "metadata.name", where + ": " + problem));
        }
        for (Iterator<String> it = tree.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!SECRET_FIELDS.contains(field)) {
                problems.add(new Problem("Secret", name, field, where + ": unknown field " + quote(field)
                        + " (known: " + new java.util.TreeSet<>(SECRET_FIELDS) + ")"));
            }
        }
        Map<String, String> values = new TreeMap<>();
        JsonNode data = tree.get("data");
        if (data != null && !data.isNull()) {
            if (!data.isObject()) {
                problems.add(new Problem("Secret", name, "data", where + ": must be a mapping of key to base64 value"));
            } else {
                data.fields().forEachRemaining(e -> {
                    String field = "data." + e.getKey();
                    if (!e.getValue().isTextual()) {
                        problems.add(new Problem("Secret", name, field, where + ": must be a base64 string"));
                        return;
                    }
                    try {
                        byte[] bytes = Base64.getDecoder().decode(e.getValue().asText().replaceAll("\\s", ""));
                        values.put(e.getKey(), StandardCharsets.UTF_8.newDecoder()
                                .onMalformedInput(CodingErrorAction.REPORT)
                                .onUnmappableCharacter(CodingErrorAction.REPORT)
                                .decode(ByteBuffer.wrap(bytes)).toString());
                    } catch (IllegalArgumentException ex) {
                        problems.add(new Problem("Secret", name, field, where + ": is not valid base64"));
                    } catch (CharacterCodingException ex) {
                        problems.add(new Problem("Secret", name, field, where + ": decodes to bytes that are not UTF-8 text"));
                    }
                });
            }
        }
        JsonNode stringData = tree.get("stringData");
        if (stringData != null && !stringData.isNull()) {
            if (!stringData.isObject()) {
                problems.add(new Problem("Secret", name, "stringData", where + ": must be a mapping of key to string"));
            } else {
                stringData.fields().forEachRemaining(e -> {
                    if (!e.getValue().isTextual()) {
                        // YAML turns unquoted 0123, yes, 1e3 into numbers or booleans: make the author quote it
                        problems.add(new Problem("Secret", name, "stringData." + e.getKey(),
                                where + ": must be a string (quote the value)"));
                    } else {
                        values.put(e.getKey(), e.getValue().asText());
                    }
                });
            }
        }
        return problems.size() == before ? new SecretValues(name, values) : null;
    }

    private static Problem bindingProblem(JsonProcessingException e, String kind, String name, String source, int docLine) {
        JsonLocation loc = e.getLocation();
        String where = loc != null && loc.getLineNr() > 0 ? source + ":" + loc.getLineNr() + ":" + loc.getColumnNr() : source + ":" + docLine;
        String field = null;
        if (e instanceof JsonMappingException m) {
            field = path(m.getPath());
        }
        String message;
        if (e instanceof UnrecognizedPropertyException u) {
            List<String> known = u.getKnownPropertyIds() == null ? List.of()
                    : u.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList();
            message = "unknown field " + quote(u.getPropertyName()) + (known.isEmpty() ? "" : " (known fields: " + known + ")");
        } else if (e instanceof InvalidFormatException f) {
            message = "invalid value " + quote(String.valueOf(f.getValue())) + ": expected " + typeName(f.getTargetType());
        } else if (e instanceof MismatchedInputException mi) {
            message = "wrong type: expected " + typeName(mi.getTargetType()) + firstLine(mi.getOriginalMessage(), " (", ")");
        } else if (e.getCause() instanceof JsonProcessingException) {
            return syntaxProblem((JsonProcessingException) e.getCause(), source);
        } else {
            message = firstLine(e.getOriginalMessage(), "", "");
        }
        return new Problem(kind, name, field, where + ": " + message);
    }

    private static String typeName(Class<?> type) {
        if (type == null) {
            return "another type";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "an integer";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (List.class.isAssignableFrom(type)) {
            return "a list";
        }
        if (Map.class.isAssignableFrom(type)) {
            return "a mapping";
        }
        return "a mapping (" + type.getSimpleName() + ")";
    }

    private static String firstLine(String message, String prefix, String suffix) {
        if (message == null || message.isEmpty()) {
            return "";
        }
        int nl = message.indexOf('\n');
        return prefix + (nl < 0 ? message : message.substring(0, nl)) + suffix;
    }

    /** A YAML syntax error, without the snippet of YAML text the parser quotes (it may hold a secret). */
    private static Problem syntaxProblem(JsonProcessingException e, String source) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.yaml.snakeyaml.error.MarkedYAMLException m) {
                var mark = m.getProblemMark();
                String where = mark == null ? source : source + ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1);
                String what = (m.getContext() == null ? "" : m.getContext() + ": ") + (m.getProblem() == null ? "syntax error" : m.getProblem());
                return new Problem(null, null, null, where + ": YAML syntax error: " + what);
            }
        }
        JsonLocation loc = e.getLocation();
        String where = loc != null && loc.getLineNr() > 0 ? source + ":" + loc.getLineNr() + ":" + loc.getColumnNr() : source;
        String original = e.getOriginalMessage();
        // Jackson's own messages ("Duplicate field 'x'") quote keys, not values
        return new Problem(null, null, null, where + ": YAML error: " + (original == null ? e.getClass().getSimpleName()
                : firstLine(original, "", "")));
    }

    private static String path(List<JsonMappingException.Reference> refs) {
        if (refs == null || refs.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference ref : refs) {
            if (ref.getFieldName() != null) {
                if (sb.length() > 0) {
                    sb.append('.');
                }
                sb.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    private static String text(JsonNode node) {
        return node != null && node.isValueNode() && !node.isNull() ? node.asText() : null;
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < Math.min(s.length(), 120); i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04X", (int) c));
        }
        return sb.append(s.length() > 120 ? "...'" : "'").toString();
    }

    // ------------------------------------------------------------------------------ ${ENV}

    /**
     * Replaces {@code ${NAME}} with {@code env.apply(NAME)}, and {@code ${NAME:-default}} with the
     * default when the variable is unset or empty. <code>$${</code> is a literal <code>${</code>. NAME is
     * {@code [A-Za-z_][A-Za-z0-9_]*}.
     *
     * @throws IllegalArgumentException naming every unset variable (never a value), or a malformed
     *     reference
     */
    public static String expandEnv(String value, Function<String, String> env) {
        Set<String> unset = new LinkedHashSet<>();
        String result = expandEnv(value, env, unset::add);
        if (!unset.isEmpty()) {
            throw new IllegalArgumentException("environment variable" + (unset.size() > 1 ? "s " : " ") + String.join(", ", unset)
                    + (unset.size() > 1 ? " are" : " is") + " not set");
        }
        return result;
    }

    /**
     * Like {@link #expandEnv(String, Function)}, but reports each unset variable's name to {@code unset}
     * (and substitutes ""). A malformed reference still throws {@link IllegalArgumentException}.
     */
    public static String expandEnv(String value, Function<String, String> env, Consumer<String> unset) {
        if (value == null || value.indexOf('$') < 0) {
            return value;
        }
        StringBuilder out = new StringBuilder(value.length());
        int i = 0;
        while (i < value.length()) {
            char c = value.charAt(i);
            if (c == '$' && value.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (c == '$' && value.startsWith("${", i)) {
                int end = value.indexOf('}', i + 2);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated ${ at position " + i + " (expected ${NAME} or ${NAME:-default})");
                }
                String body = value.substring(i + 2, end);
                int dflt = body.indexOf(":-");
                String name = dflt < 0 ? body : body.substring(0, dflt);
                if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    throw new IllegalArgumentException("invalid variable name in ${...} at position " + i
                            + " (expected ${NAME} or ${NAME:-default}, NAME of letters, digits and '_')");
                }
                String v = env.apply(name);
                if (dflt >= 0) {
                    out.append(v == null || v.isEmpty() ? body.substring(dflt + 2) : v);
                } else if (v == null) {
                    unset.accept(name);
                } else {
                    out.append(v);
                }
                i = end + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** A second parser over the same text, kept in step with the tree reader, to bind with locations. */
    private static final class Binder {
        private final YAMLFactory factory;
        private final String text;
        private JsonParser parser;
        private int position; // top-level values consumed

        Binder(YAMLFactory factory, String text) {
            this.factory = factory;
            this.text = text;
        }

        Object bind(int index, ObjectReader reader) throws IOException {
            if (parser == null || position > index) {
                close();
                parser = factory.createParser(text);
                position = 0;
            }
            while (position < index) {
                parser.nextToken();
                parser.skipChildren();
                position++;
            }
            parser.nextToken();
            try {
                Object value = reader.readValue(parser);
                position++;
                return value;
            } catch (IOException | RuntimeException e) {
                close(); // out of step: reopen next time
                throw e;
            }
        }

        void close() {
            if (parser != null) {
                try {
                    parser.close();
                } catch (IOException ignored) {
                    // nothing to release but memory
                }
                parser = null;
            }
        }
    }
}
