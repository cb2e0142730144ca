package ai.finops.crds.validation;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A model reference: {@code prefix/model} or a bare {@code model}.
 *
 * <p>The prefix is a ProviderDeployment name (pins one account) or a provider type id
 * ({@code vertex/...}: any vertex deployment that serves the model); a deployment name wins over a
 * provider type of the same spelling. The prefix follows the Kubernetes label rule {@code
 * [a-z0-9]([-a-z0-9]*[a-z0-9])?}, at most 63 characters.
 *
 * <p>The model is 1 to 256 characters of {@code [A-Za-z0-9._:@-]}, must not start with {@code .},
 * {@code @} or {@code -} and must not contain {@code ..}. A reference contains at most one {@code /}.
 * This is deliberately strict: model names end up in upstream URLs (Bedrock, Vertex, Azure put them
 * in the path), so no reference may be able to steer a request to another path or host
 * ({@code ../x}, {@code %2F}, {@code a/b/c}, spaces and control characters are all rejected).
 *
 * @param prefix the deployment name or provider type, or null for a bare model
 * @param model the model name, never null or empty
 */
public record ModelRef(String prefix, String model) {
    /** The longest model part accepted. */
    public static final int MAX_MODEL_LENGTH = 256;
    /** The longest prefix accepted (a Kubernetes label). */
    public static final int MAX_PREFIX_LENGTH = 63;

    private static final Pattern PREFIX = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

    /** Validates like {@link #parse}; throws {@link IllegalArgumentException} when invalid. */
    public ModelRef {
        if (prefix != null) {
            checkPrefix(prefix, prefix + "/" + model);
        }
        checkModel(model);
    }

    /** A bare model reference. */
    public static ModelRef bare(String model) {
        return new ModelRef(null, model);
    }

    /**
     * Parses {@code prefix/model} (split at the first {@code /}) or a bare {@code model}.
     *
     * @throws IllegalArgumentException saying which part or character is not allowed
     */
    public static ModelRef parse(String ref) {
        if (ref == null || ref.isEmpty()) {
            throw new IllegalArgumentException("model reference is empty");
        }
        int slash = ref.indexOf('/');
        if (slash < 0) {
            checkModel(ref);
            return new ModelRef(null, ref);
        }
        if (ref.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("model reference " + Messages.quote(ref)
                    + " contains more than one '/': use prefix/model or a bare model");
        }
        String prefix = ref.substring(0, slash);
        String model = ref.substring(slash + 1);
        checkPrefix(prefix, ref);
        if (model.isEmpty()) {
            throw new IllegalArgumentException("model reference " + Messages.quote(ref) + " has an empty model after '/'");
        }
        checkModel(model);
        return new ModelRef(prefix, model);
    }

    /** Whether {@code ref} parses. */
    public static boolean isValid(String ref) {
        try {
            parse(ref);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Checks a model name on its own (no prefix allowed), e.g. {@code ProviderDeployment.spec.models[].name}.
     *
     * @throws IllegalArgumentException saying which character is not allowed
     */
    public static String checkModel(String model) {
        if (model == null || model.isEmpty()) {
            throw new IllegalArgumentException("model name is empty");
        }
        if (model.length() > MAX_MODEL_LENGTH) {
            throw new IllegalArgumentException("model name is " + model.length() + " characters long; at most "
                    + MAX_MODEL_LENGTH + " are allowed");
        }
        for (int i = 0; i < model.length(); i++) {
            char c = model.charAt(i);
            if (!modelChar(c)) {
                throw new IllegalArgumentException("character " + Messages.describe(c) + " at position " + i
                        + " is not allowed in model name " + Messages.quote(model)
                        + " (allowed: letters, digits, '.', '_', ':', '@', '-')");
            }
        }
        char first = model.charAt(0);
        if (first == '.' || first == '@' || first == '-') {
            throw new IllegalArgumentException("model name " + Messages.quote(model) + " must not start with '" + first + "'");
        }
        if (model.contains("..")) {
            throw new IllegalArgumentException("model name " + Messages.quote(model) + " must not contain '..'");
        }
        return model;
    }

    private static void checkPrefix(String prefix, String ref) {
        if (prefix.isEmpty()) {
            throw new IllegalArgumentException("model reference " + Messages.quote(ref) + " has an empty prefix before '/'");
        }
        if (prefix.length() > MAX_PREFIX_LENGTH) {
            throw new IllegalArgumentException("prefix of model reference " + Messages.quote(ref) + " is longer than "
                    + MAX_PREFIX_LENGTH + " characters");
        }
        if (!PREFIX.matcher(prefix).matches()) {
            for (int i = 0; i < prefix.length(); i++) {
                char c = prefix.charAt(i);
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                    throw new IllegalArgumentException("character " + Messages.describe(c) + " at position " + i
                            + " is not allowed in the prefix " + Messages.quote(prefix) + " of model reference "
                            + Messages.quote(ref) + " (a ProviderDeployment name or provider type: lower-case letters, digits, '-')");
                }
            }
            throw new IllegalArgumentException("prefix " + Messages.quote(prefix) + " of model reference " + Messages.quote(ref)
                    + " must start and end with a lower-case letter or digit");
        }
    }

    private static boolean modelChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
    }

    /** Whether this reference has a prefix. */
    public boolean hasPrefix() {
        return prefix != null;
    }

    /** {@code prefix/model} or {@code model}: what {@link #parse} reads back to an equal reference. */
    @Override
    public String toString() {
        return prefix == null ? model : prefix + "/" + Objects.requireNonNull(model);
    }
}
