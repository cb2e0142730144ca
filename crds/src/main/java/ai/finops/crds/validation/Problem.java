package ai.finops.crds.validation;

import java.util.Objects;

/**
 * One thing wrong with a resource or a configuration file.
 *
 * <p>{@link #toString()} reads {@code Kind/name: field.path: message}, for example {@code
 * RoutingRule/claude-code-sonnet: spec.targets[0].model: unknown provider or deployment 'vertx' (...)}.
 * Parts that are unknown (a YAML document without a name, a file-level syntax error) are left out.
 *
 * <p>Messages name the resource, the field and the problem; they never contain a secret value
 * (tokens, API keys, Secret data): validators name the Secret and the key instead.
 *
 * @param kind the resource kind ({@code ProviderDeployment}, {@code RoutingRule}, {@code VirtualKey},
 *     {@code Secret}, ...) or null when not known
 * @param name the resource's {@code metadata.name}, or null when not known
 * @param field the field path ({@code spec.timeouts.connect}, {@code spec.targets[1].weight},
 *     {@code metadata.name}), or null for the whole resource or file
 * @param message what is wrong, and where useful what would be right; never null
 * @param unresolvedReference true when the resource itself is well-formed but names something that
 *     does not exist (a Secret, a ProviderDeployment, a VirtualKey): the operator reports these as
 *     {@code ResolvedRefs=False} rather than {@code Accepted=False}
 */
public record Problem(String kind, String name, String field, String message, boolean unresolvedReference) {
    public Problem {
        Objects.requireNonNull(message, "message");
    }

    /** A problem with the resource itself ({@code Accepted=False}). */
    public Problem(String kind, String name, String field, String message) {
        this(kind, name, field, message, false);
    }

    /** The {@code Kind/name} part of {@link #toString()}, or the one of them that is known, or "". */
    public String resource() {
        boolean hasKind = kind != null && !kind.isEmpty();
        boolean hasName = name != null && !name.isEmpty();
        if (hasKind && hasName) {
            return kind + "/" + name;
        }
        return hasKind ? kind : hasName ? name : "";
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        String resource = resource();
        if (!resource.isEmpty()) {
            sb.append(resource).append(": ");
        }
        if (field != null && !field.isEmpty()) {
            sb.append(field).append(": ");
        }
        return sb.append(message).toString();
    }
}
