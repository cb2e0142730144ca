package ai.finops.crds;

/** Names shared by every resource of the API. */
public final class Resources {
    public static final String GROUP = "finops.ai";
    public static final String VERSION = "v1alpha1";
    public static final String API_VERSION = GROUP + "/" + VERSION;

    private Resources() {}
}
