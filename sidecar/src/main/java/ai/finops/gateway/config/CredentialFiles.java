package ai.finops.gateway.config;

import ai.finops.crds.ResourceSet;
import ai.finops.crds.validation.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The operator's credentials Secret as kubelet mounts it: one file per value, named {@code <Secret
 * name>.<key>} ({@code anthropic-key.apiKey}), so that two Secrets' {@code apiKey} never collide.
 * The name splits at its last dot: Secret names may contain dots, the keys the resources use
 * ({@code apiKey}, {@code accessKeyId}, {@code serviceAccountJson}, ...) do not. Names starting with
 * {@code .} (kubelet's {@code ..data} and timestamped folders) are skipped; the top-level symlinks
 * are followed. Values are taken byte for byte; they go into the content hash and nowhere else.
 *
 * @param dir the mounted folder
 * @param secrets Secret name, then key, then value
 */
record CredentialFiles(Path dir, Map<String, Map<String, String>> secrets) {

    static CredentialFiles read(Path dir, MessageDigest digest, List<Problem> problems) {
        Map<String, Map<String, String>> secrets = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            problems.add(new Problem(null, null, null, "credentials: " + (Files.exists(dir) ? "not a directory: " : "no such directory: ") + dir));
            return new CredentialFiles(dir, secrets);
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> list = Files.list(dir)) {
            list.filter(p -> !p.getFileName().toString().startsWith(".")).filter(Files::isRegularFile).sorted().forEach(files::add);
        } catch (IOException e) {
            problems.add(new Problem("Credentials", dir.toString(), "-", "cannot list: " + e.getMessage()));
            return new CredentialFiles(dir, secrets);
        }
        for (Path file : files) {
            String fileName = file.getFileName().toString();
            int dot = fileName.lastIndexOf('.');
            if (dot <= 0 || dot == fileName.length() - 1) {
                problems.add(new Problem("Credentials", dir.toString(), fileName, "expected a file named <Secret name>.<key>"));
                continue;
            }
            try {
                byte[] value = Files.readAllBytes(file);
                digest.update(fileName.getBytes(StandardCharsets.UTF_8));
                digest.update(value);
                secrets.computeIfAbsent(fileName.substring(0, dot), k -> new TreeMap<>())
                        .put(fileName.substring(dot + 1), new String(value, StandardCharsets.UTF_8));
            } catch (IOException e) {
                problems.add(new Problem("Credentials", dir.toString(), fileName, "cannot read: " + e.getMessage()));
            }
        }
        return new CredentialFiles(dir, secrets);
    }

    /** {@code set} with these Secrets added; a Secret also defined by a {@code kind: Secret} document is a problem. */
    ResourceSet addTo(ResourceSet set, List<Problem> problems) {
        Map<String, Map<String, String>> all = new LinkedHashMap<>(set.secrets());
        secrets.forEach((name, values) -> {
            if (all.putIfAbsent(name, values) != null) {
                problems.add(new Problem("Secret", name, "metadata.name",
                        "defined both by a Secret document and by the credentials folder " + dir));
            }
        });
        return set.withSecrets(all);
    }

    @Override
    public String toString() {
        return "CredentialFiles[" + dir + ", secrets=" + secrets.keySet() + "]";   // never the values
    }
}
