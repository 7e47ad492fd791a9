// TrustProbe.java - compiled with javac on the host, run in the java image:
// the default trust store (JAVA_HOME/lib/security/cacerts, which Debian links
// to /etc/ssl/certs/java/cacerts) as the JDK's PKIX trust manager sees it.
import java.security.KeyStore;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

public class TrustProbe {
	public static void main(String[] args) throws Exception {
		TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
		tmf.init((KeyStore) null);
		for (TrustManager tm : tmf.getTrustManagers())
			if (tm instanceof X509TrustManager) {
				System.out.println("issuers " + ((X509TrustManager) tm).getAcceptedIssuers().length);
				return;
			}
		System.out.println("issuers none");
	}
}
