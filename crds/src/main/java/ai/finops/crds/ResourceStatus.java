package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * Status shared by every resource: Kubernetes-style conditions and the generation they describe,
 * written by the bundle reconciler. VirtualKey and Budget add a spend summary ({@link SpendStatus}),
 * which another writer owns. Fields this class does not know are ignored when read, never refused: an
 * informer that cannot read a resource's status stops watching it.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonIgnoreProperties(ignoreUnknown = true)
public class ResourceStatus {
    /**
     * {@code Accepted}, {@code ResolvedRefs}, {@code Ready} (the bundle reconciler's), and on VirtualKey
     * and Budget {@value SpendStatus#BUDGET_EXCEEDED} (the spend loop's).
     */
    public List<Condition> conditions = new ArrayList<>();
    public Long observedGeneration;
}
