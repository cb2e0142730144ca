/**
 * Validation shared by the operator and the gateway: {@link ai.finops.crds.validation.ResourceValidator}
 * over a {@link ai.finops.crds.ResourceSet}, reporting {@link ai.finops.crds.validation.Problem}s; and
 * the value parsers it is built from, which the gateway reuses when compiling a snapshot: {@link
 * ai.finops.crds.validation.ModelRef}, {@link ai.finops.crds.validation.Durations}, {@link
 * ai.finops.crds.validation.Money}, {@link ai.finops.crds.validation.Quantities}, {@link
 * ai.finops.crds.validation.Globs}, {@link ai.finops.crds.validation.TimeZones}.
 *
 * <p>Messages name the resource, the field path and the problem, and never contain a secret value.
 */
package ai.finops.crds.validation;
