package launcher;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Writes a factory configuration through the framework's ConfigurationAdmin service. The launcher
 * has org.osgi.service.cm on neither its class path nor the system bundle's exports, so the calls
 * are reflective, on the interfaces as the Config Admin bundle loads them.
 */
final class Configurations {
    static final String CONFIGURATION_ADMIN = "org.osgi.service.cm.ConfigurationAdmin";
    static final String CONFIGURATION = "org.osgi.service.cm.Configuration";

    private Configurations() {
    }

    /**
     * Creates (or replaces) the factory configuration {@code factoryPid~name} with
     * {@code properties}, bound to no bundle ("?": whichever component uses the PID). Returns null,
     * or why it could not.
     */
    static String create(BundleContext context, String factoryPid, String name, Map<String, Object> properties) {
        ServiceReference<?> ref = context.getServiceReference(CONFIGURATION_ADMIN);
        if (ref == null) {
            return "no " + CONFIGURATION_ADMIN + " service: is org.apache.felix.configadmin among the bundles?";
        }
        Object admin = context.getService(ref);
        try {
            Bundle cm = ref.getBundle();
            Method factory = cm.loadClass(CONFIGURATION_ADMIN).getMethod("getFactoryConfiguration", String.class,
                    String.class, String.class);
            Object configuration = factory.invoke(admin, factoryPid, name, "?");
            Method update = cm.loadClass(CONFIGURATION).getMethod("update", Dictionary.class);
            update.invoke(configuration, new Hashtable<>(properties));
            return null;
        } catch (InvocationTargetException e) {
            return "cannot write configuration " + factoryPid + "~" + name + ": " + Main.describe(e.getCause());
        } catch (ReflectiveOperationException | IllegalStateException e) {
            return "cannot write configuration " + factoryPid + "~" + name + ": " + Main.describe(e);
        } finally {
            context.ungetService(ref);
        }
    }
}
