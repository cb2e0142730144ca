package ai.finops.crds;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** Status shared by the three resources: Kubernetes-style conditions, written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public class ResourceStatus {
    /** {@code Accepted}, {@code ResolvedRefs}, {@code Ready}. */
    public List<Condition> conditions = new ArrayList<>();
    public Long observedGeneration;
}
