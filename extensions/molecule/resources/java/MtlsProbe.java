import java.net.URL;
import javax.net.ssl.HttpsURLConnection;

/**
 * A real Java client for the molecule verifiers: GET the URL with the JVM's default SSLContext, so the
 * trust store is the JRE's cacerts unless -Djavax.net.ssl.trustStore says otherwise, and the client
 * certificate comes from -Djavax.net.ssl.keyStore. Prints "HTTP <status>" (exit 0 for 200, 1 otherwise)
 * or "FAILED <exception>" (exit 2) when the handshake or the connection fails.
 */
public class MtlsProbe {
    public static void main(String[] args) {
        try {
            HttpsURLConnection conn = (HttpsURLConnection) new URL(args[0]).openConnection();
            conn.setConnectTimeout(10000);
            conn.setReadTimeout(10000);
            int status = conn.getResponseCode();
            System.out.println("HTTP " + status);
            System.exit(status == 200 ? 0 : 1);
        } catch (Exception e) {
            System.out.println("FAILED " + e);
            System.exit(2);
        }
    }
}
