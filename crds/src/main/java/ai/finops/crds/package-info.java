/**
 * The five FinOps Gateway resources (API group {@code finops.ai}, version {@code v1alpha1}): {@link
 * ai.finops.crds.ProviderDeployment}, {@link ai.finops.crds.RoutingRule}, {@link
 * ai.finops.crds.VirtualKey}, {@link ai.finops.crds.Budget} and {@link ai.finops.crds.McpServer}. The same classes are read by the gateway from YAML files and by the
 * operator from the Kubernetes API; {@link ai.finops.crds.validation} validates them for both.
 *
 * <p>Spec classes are plain data holders with public fields: Jackson binds them, the CRD generator
 * derives the OpenAPI schema from them, and nothing else writes to them.
 */
package ai.finops.crds;
