package ai.finops.operator.bundle;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** A resource of one namespace by kind and name, as the validators name it ({@code RoutingRule/claude-code}). */
public record ResourceKey(String kind, String name) implements Comparable<ResourceKey> {

    public static ResourceKey of(HasMetadata resource) {
        return new ResourceKey(resource.getKind(), resource.getMetadata().getName());
    }

    @Override
    public int compareTo(ResourceKey other) {
        int byKind = kind.compareTo(other.kind);
        return byKind != 0 ? byKind : name.compareTo(other.name);
    }

    @Override
    public String toString() {
        return kind + "/" + name;
    }
}
