package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * Status shared by the three resources: Kubernetes-style conditions, written by the bundle reconciler.
 * Fields other writers own beside them (a spend summary) are ignored when read, never refused: an
 * informer that cannot read a resource's status stops watching it.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
public class ResourceStatus {
    /** {@code Accepted}, {@code ResolvedRefs}, {@code Ready}. */
    public List<Condition> conditions = new ArrayList<>();
    public Long observedGeneration;
}
