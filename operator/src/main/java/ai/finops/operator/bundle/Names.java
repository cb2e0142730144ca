package ai.finops.operator.bundle;

/** Names, labels and annotations of what the operator writes. */
public final class Names {
    /** The namespace's bundle ConfigMap, mounted by its gateways as {@code --config}. */
    public static final String BUNDLE_CONFIG_MAP = "finops-gateway-bundle";
    /** Its one key. */
    public static final String BUNDLE_KEY = "bundle.yaml";
    /** The namespace's credentials Secret, mounted by its gateways as {@code --credentials}. */
    public static final String CREDENTIALS_SECRET = "finops-gateway-credentials";
    /** Content hash of {@code bundle.yaml} on the ConfigMap. */
    public static final String BUNDLE_HASH_ANNOTATION = "finops.ai/bundle-sha256";
    /** On every object the operator creates. */
    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY = "finops-operator";
    public static final String PART_OF_LABEL = "app.kubernetes.io/part-of";
    public static final String PART_OF = "finops-gateway";
    /** On a generated VirtualKey Secret: the VirtualKey it belongs to. */
    public static final String VIRTUAL_KEY_LABEL = "finops.ai/virtual-key";

    private Names() {}
}
