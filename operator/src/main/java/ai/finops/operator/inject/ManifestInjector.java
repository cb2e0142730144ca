package ai.finops.operator.inject;

import ai.finops.crds.SecretKeyRef;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.LinkedHashMap;
import java.util.function.Function;

/**
 * Injection into any manifest that holds a pod: a Pod, or the pod template of a Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, Job or CronJob (what {@code istioctl kube-inject} and
 * {@code linkerd inject} accept). Other kinds pass unchanged.
 */
public final class ManifestInjector {
    private final SidecarInjector injector;

    public ManifestInjector(SidecarInjector injector) {
        this.injector = injector;
    }

    /** Whether {@code resource} is a Pod or a workload with a pod template: what {@link #inject} can change. */
    public static boolean holdsPod(HasMetadata resource) {
        return resource instanceof Pod || template(resource) != null;
    }

    /** Injects into {@code resource} in place. */
    public SidecarInjector.Outcome inject(HasMetadata resource, Function<String, SecretKeyRef> virtualKeys) {
        if (resource instanceof Pod pod) {
            ObjectMeta meta = pod.getMetadata();
            if (meta.getAnnotations() == null) {
                meta.setAnnotations(new LinkedHashMap<>());
            }
            return injector.inject(pod.getSpec(), meta.getLabels(), meta.getAnnotations(), virtualKeys);
        }
        PodTemplateSpec template = template(resource);
        if (template == null) {
            return SidecarInjector.Outcome.skipped(resource.getKind() + " holds no pod");
        }
        if (template.getMetadata() == null) {
            template.setMetadata(new ObjectMeta());
        }
        ObjectMeta meta = template.getMetadata();
        if (meta.getAnnotations() == null) {
            meta.setAnnotations(new LinkedHashMap<>());
        }
        return injector.inject(template.getSpec(), meta.getLabels(), meta.getAnnotations(), virtualKeys);
    }

    private static PodTemplateSpec template(HasMetadata resource) {
        if (resource instanceof Deployment d) {
            return d.getSpec().getTemplate();
        }
        if (resource instanceof StatefulSet s) {
            return s.getSpec().getTemplate();
        }
        if (resource instanceof DaemonSet d) {
            return d.getSpec().getTemplate();
        }
        if (resource instanceof ReplicaSet r) {
            return r.getSpec().getTemplate();
        }
        if (resource instanceof Job j) {
            return j.getSpec().getTemplate();
        }
        if (resource instanceof CronJob c) {
            return c.getSpec().getJobTemplate().getSpec().getTemplate();
        }
        return null;
    }
}
