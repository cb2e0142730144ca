package ai.finops.testkit;

import java.time.Duration;

/** How a {@link Simulator} listens and behaves. Build with {@link #builder()}. */
public record SimulatorOptions(String host, int port, Duration latency, int tokensPerSecond, String requiredApiKey,
        String certificatePem, String privateKeyPem, boolean record, AwsKeys aws, GoogleAccount google) {

    /**
     * The service account whose signed JWT assertions the simulator's OAuth token endpoint ({@code POST /token})
     * accepts; Vertex requests must then carry a token it issued and that has not expired.
     */
    public record GoogleAccount(String clientEmail, java.security.PublicKey publicKey, Duration tokenLifetime) {}

    /** The AWS credentials whose SigV4 signatures the Bedrock dialect accepts (region from the signature's scope). */
    public record AwsKeys(String accessKeyId, String secretAccessKey, String sessionToken) {}

    public static Builder builder() {
        return new Builder();
    }

    public boolean tls() {
        return certificatePem != null;
    }

    public static final class Builder {
        private String host = "127.0.0.1";
        private int port;
        private Duration latency = Duration.ZERO;
        private int tokensPerSecond;
        private String requiredApiKey;
        private String certificatePem;
        private String privateKeyPem;
        private boolean record = true;
        private AwsKeys aws;
        private GoogleAccount google;

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** 0 (the default) picks a free port. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Time before the response head of every reply. */
        public Builder latency(Duration latency) {
            this.latency = latency;
            return this;
        }

        /** Spaces streamed deltas by 1/rate seconds; 0 (the default) streams as fast as the client reads. */
        public Builder tokensPerSecond(int tokensPerSecond) {
            this.tokensPerSecond = tokensPerSecond;
            return this;
        }

        /** Requests whose {@code x-api-key} (or Bearer token) differs get 401 {@code authentication_error}. */
        public Builder requiredApiKey(String key) {
            this.requiredApiKey = key;
            return this;
        }

        public Builder tls(String certificatePem, String privateKeyPem) {
            this.certificatePem = certificatePem;
            this.privateKeyPem = privateKeyPem;
            return this;
        }

        /** Whether to keep every request received (tests: yes; benchmarks and demos: no). */
        public Builder record(boolean record) {
            this.record = record;
            return this;
        }

        /** Bedrock requests must carry a SigV4 signature by these credentials (else 403, as AWS answers). */
        public Builder aws(String accessKeyId, String secretAccessKey, String sessionToken) {
            this.aws = new AwsKeys(accessKeyId, secretAccessKey, sessionToken);
            return this;
        }

        /** Vertex: accept JWT assertions signed by this service account's key; issued tokens live {@code tokenLifetime}. */
        public Builder google(String clientEmail, java.security.PublicKey publicKey, Duration tokenLifetime) {
            this.google = new GoogleAccount(clientEmail, publicKey, tokenLifetime);
            return this;
        }

        public SimulatorOptions build() {
            return new SimulatorOptions(host, port, latency, tokensPerSecond, requiredApiKey, certificatePem, privateKeyPem, record, aws, google);
        }
    }
}
