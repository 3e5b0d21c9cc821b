# JupyterHub for a room of workshop attendees on OpenShift (the hosted-workshop
# template): people log in with their OpenShift account, each gets a workshop
# terminal pod of their own (KubeSpawner) with a volume that keeps their files,
# and idle terminals are stopped. The template's choices come in through the
# environment of the hub's container.
#
# This file is the source of the ConfigMap in hosted-workshop.json; after a
# change, embed it there again (test/templates.test.ts prints the command).
import json
import os
import re
import ssl
import urllib.error
import urllib.request

from oauthenticator.openshift import OpenShiftOAuthenticator

c = get_config()  # noqa: F821 -- provided by JupyterHub's config loader

APPLICATION = os.environ['APPLICATION_NAME']
TERMINAL_IMAGE = os.environ['TERMINAL_IMAGE']
VOLUME_SIZE = os.environ['VOLUME_SIZE']
# The in-pod location; another folder only for trying this file outside a pod.
SERVICE_ACCOUNT_DIR = os.environ.get('SERVICE_ACCOUNT_DIR') or '/var/run/secrets/kubernetes.io/serviceaccount'
# A host name whose subdomains all reach the cluster's router: the hub is there, and
# each attendee's terminal at <user>.SUBDOMAIN_HOST, an origin of its own. Empty:
# every terminal shares the hub's origin.
SUBDOMAIN_HOST = os.environ.get('SUBDOMAIN_HOST', '').strip().lower().rstrip('.')
if SUBDOMAIN_HOST and not re.fullmatch(r'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+', SUBDOMAIN_HOST):
    raise ValueError(f'SUBDOMAIN_HOST must be a host name like workshop.apps.example.com, not {SUBDOMAIN_HOST!r}')
# The terminal image's one public port (its auth proxy).
TERMINAL_PORT = 10080
HUB_PORT = 8081
# The room service (room/ of the terminal image), the hub pod's second container.
ROOM_PORT = 8090
ROOM_URL = f'http://{APPLICATION}-hub:{ROOM_PORT}'


def positive_integer(name):
    value = os.environ[name].strip()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f'{name} must be a whole number of seconds above 0, not {value!r}')
    return int(value)


def memory_bytes(name):
    """A Kubernetes memory quantity (512Mi, 1Gi, 500M) in bytes: JupyterHub's own K, M, G mean Ki, Mi, Gi."""
    value = os.environ[name].strip()
    units = {'': 1, 'k': 10**3, 'M': 10**6, 'G': 10**9, 'T': 10**12, 'Ki': 2**10, 'Mi': 2**20, 'Gi': 2**30, 'Ti': 2**40}
    match = re.fullmatch(r'(\d+(?:\.\d+)?)(k|Ki|[MGT]i?)?', value)
    if not match or int(float(match[1]) * units[match[2] or '']) < 1:
        raise ValueError(f'{name} must be a memory size like 512Mi or 1Gi, not {value!r}')
    return int(float(match[1]) * units[match[2] or ''])


def cpu_cores(name):
    """A Kubernetes CPU quantity ('1', '0.5', '500m') as the float KubeSpawner wants."""
    value = os.environ[name].strip()
    try:
        cores = float(value[:-1]) / 1000 if value.endswith('m') else float(value)
    except ValueError:
        cores = 0
    if cores <= 0:
        raise ValueError(f'{name} must be a CPU quantity like 1, 0.5 or 500m, not {value!r}')
    return cores


def service_account_file(name):
    # Read each time: the token is projected and rotates.
    with open(os.path.join(SERVICE_ACCOUNT_DIR, name)) as f:
        return f.read().strip()


NAMESPACE = service_account_file('namespace')


def kubernetes_request(method, path, body=None, content_type='application/json'):
    """One call to the API server as the hub's service account: (status, answer as JSON)."""
    host = os.environ['KUBERNETES_SERVICE_HOST']
    if ':' in host:
        host = f'[{host}]'
    port = os.environ.get('KUBERNETES_SERVICE_PORT') or '443'
    context = ssl.create_default_context(cafile=os.path.join(SERVICE_ACCOUNT_DIR, 'ca.crt'))
    headers = {'Authorization': f'Bearer {service_account_file("token")}', 'Accept': 'application/json'}
    if body is not None:
        headers['Content-Type'] = content_type
    request = urllib.request.Request(
        f'https://{host}:{port}{path}',
        method=method,
        headers=headers,
        data=None if body is None else json.dumps(body).encode(),
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, None


def kubernetes_get(path):
    status, answer = kubernetes_request('GET', path)
    if status != 200:
        raise RuntimeError(f'GET {path}: the API server answered {status}')
    return answer


def public_host():
    """The host of the hub's Route: OpenShift picks it when the template is processed."""
    route = kubernetes_get(f'/apis/route.openshift.io/v1/namespaces/{NAMESPACE}/routes/{APPLICATION}')
    host = (route.get('spec') or {}).get('host')
    if not host:
        raise RuntimeError(f'route {APPLICATION} has no host yet')
    if SUBDOMAIN_HOST and host != SUBDOMAIN_HOST:
        raise RuntimeError(f'route {APPLICATION} has the host {host}, not SUBDOMAIN_HOST ({SUBDOMAIN_HOST})')
    return host


USERS_ROUTE = f'{APPLICATION}-users'
ROUTES = f'/apis/route.openshift.io/v1/namespaces/{NAMESPACE}/routes'


def users_route():
    """The Route sending every <user>.SUBDOMAIN_HOST to the proxy, which routes by host."""
    return {
        'apiVersion': 'route.openshift.io/v1',
        'kind': 'Route',
        'metadata': {'name': USERS_ROUTE, 'labels': {'app': APPLICATION}},
        'spec': {
            # With wildcardPolicy Subdomain, a route for x.D serves every *.D.
            'host': f'{USERS_ROUTE}.{SUBDOMAIN_HOST}',
            'wildcardPolicy': 'Subdomain',
            'to': {'kind': 'Service', 'name': f'{APPLICATION}-proxy', 'weight': 100},
            'port': {'targetPort': 'http'},
            'tls': {'termination': 'edge', 'insecureEdgeTerminationPolicy': 'Redirect'},
        },
    }


def reconcile_users_route():
    """
    Made here, not in the template: OpenShift refuses a wildcard route without a
    host, and the template cannot leave an object out when SUBDOMAIN_HOST is
    empty. Created when missing, its host kept to SUBDOMAIN_HOST (a certificate
    added to it stays), removed when the room goes back to one origin.
    """
    status, current = kubernetes_request('GET', f'{ROUTES}/{USERS_ROUTE}')
    if status not in (200, 404):
        raise RuntimeError(f'GET route {USERS_ROUTE}: the API server answered {status}')
    wanted = users_route()
    if SUBDOMAIN_HOST and status == 404:
        done, _ = kubernetes_request('POST', ROUTES, wanted)
    elif SUBDOMAIN_HOST:
        spec = (current or {}).get('spec') or {}
        change = {key: wanted['spec'][key] for key in ('host', 'wildcardPolicy') if spec.get(key) != wanted['spec'][key]}
        if not change:
            return
        done, _ = kubernetes_request(
            'PATCH', f'{ROUTES}/{USERS_ROUTE}', {'spec': change}, 'application/merge-patch+json'
        )
    elif status == 200 and ((current or {}).get('metadata') or {}).get('labels', {}).get('app') == APPLICATION:
        done, _ = kubernetes_request('DELETE', f'{ROUTES}/{USERS_ROUTE}')
    else:
        return
    if done >= 300:
        raise RuntimeError(f'route {USERS_ROUTE}: the API server answered {done}')


# ---- The hub, behind configurable-http-proxy running in its own pod.
c.JupyterHub.hub_ip = '0.0.0.0'
c.JupyterHub.hub_port = HUB_PORT
c.JupyterHub.hub_connect_url = f'http://{APPLICATION}-hub:{HUB_PORT}'
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = f'http://{APPLICATION}-proxy-api:8001'
c.ConfigurableHTTPProxy.auth_token = os.environ['CONFIGPROXY_AUTH_TOKEN']
# A restart of the hub leaves the terminals (and the proxy's routes) running.
c.JupyterHub.cleanup_servers = False
c.JupyterHub.db_url = 'sqlite:////srv/jupyterhub/data/jupyterhub.sqlite'
c.JupyterHub.upgrade_db = True
c.JupyterHub.cookie_secret = bytes.fromhex(os.environ['JPY_COOKIE_SECRET'])

# ---- One origin per attendee (SUBDOMAIN_HOST): an attendee controls their own
# server and so every page it serves; on a shared origin such a page could use the
# cookies of whoever opens it (an instructor watching) for the hub and for the
# visitor's own terminal. The proxy pod routes by host when SUBDOMAIN_HOST is set.
HUB_HOST = public_host()
reconcile_users_route()
if SUBDOMAIN_HOST:
    c.JupyterHub.subdomain_host = f'https://{SUBDOMAIN_HOST}'
    # JupyterHub 4.1 and later: the hub's cookies get the __Host- prefix, so no
    # attendee's server (a subdomain) can set cookies the hub would take for its own.
    from jupyterhub.app import JupyterHub

    if JupyterHub.class_traits().get('cookie_host_prefix_enabled') is not None:
        c.JupyterHub.cookie_host_prefix_enabled = True


# ---- Log in with OpenShift: the hub's service account is the OAuth client.
class WorkshopOpenShiftOAuthenticator(OpenShiftOAuthenticator):
    """The client secret is the service account's token, which rotates: read it at each login."""

    async def authenticate(self, handler, data=None):
        self.client_secret = service_account_file('token')
        return await super().authenticate(handler, data)


c.JupyterHub.authenticator_class = WorkshopOpenShiftOAuthenticator
c.OpenShiftOAuthenticator.openshift_url = 'https://kubernetes.default.svc'
c.OpenShiftOAuthenticator.client_id = f'system:serviceaccount:{NAMESPACE}:{APPLICATION}-hub'
c.OpenShiftOAuthenticator.client_secret = service_account_file('token')
# Registered by the service account's redirect annotation, which names the Route.
c.OpenShiftOAuthenticator.oauth_callback_url = f'https://{HUB_HOST}/hub/oauth_callback'
# The client id holds colons: it must go in the form body, not in a Basic header.
c.OpenShiftOAuthenticator.basic_auth = False
# Everyone who can log in to the cluster gets a terminal.
c.OpenShiftOAuthenticator.allow_all = True
c.Authenticator.admin_users = {name for name in os.environ.get('ADMIN_USERS', '').replace(',', ' ').split() if name}

# ---- One terminal pod per user, on a volume of its own.
WORKSPACE_CLAIM = f'{APPLICATION}-workspace-{{username}}'
CONTAINER_SECURITY = {'allowPrivilegeEscalation': False, 'capabilities': {'drop': ['ALL']}, 'runAsNonRoot': True}

c.JupyterHub.spawner_class = 'kubespawner.KubeSpawner'
c.KubeSpawner.image = TERMINAL_IMAGE
c.KubeSpawner.cmd = ['/usr/libexec/s2i/run']
c.KubeSpawner.args = []
c.KubeSpawner.port = TERMINAL_PORT
c.KubeSpawner.mem_limit = memory_bytes('MEMORY_SIZE')
c.KubeSpawner.mem_guarantee = memory_bytes('MEMORY_SIZE')
c.KubeSpawner.cpu_limit = cpu_cores('CPU_LIMIT')
c.KubeSpawner.cpu_guarantee = min(0.1, cpu_cores('CPU_LIMIT'))
c.KubeSpawner.start_timeout = 300
c.KubeSpawner.http_timeout = 120
c.KubeSpawner.pod_name_template = f'{APPLICATION}-terminal-{{username}}'
c.KubeSpawner.common_labels = {'app': APPLICATION}
c.KubeSpawner.container_security_context = CONTAINER_SECURITY
c.KubeSpawner.storage_pvc_ensure = True
c.KubeSpawner.pvc_name_template = WORKSPACE_CLAIM
c.KubeSpawner.storage_capacity = VOLUME_SIZE
c.KubeSpawner.storage_access_modes = ['ReadWriteOnce']
c.KubeSpawner.volumes = [{'name': 'workspace', 'persistentVolumeClaim': {'claimName': WORKSPACE_CLAIM}}]
c.KubeSpawner.volume_mounts = [{'name': 'workspace', 'mountPath': '/opt/app-root', 'subPath': 'workspace'}]
# The image's /opt/app-root is copied onto the volume at the first start (see setup-volume).
c.KubeSpawner.init_containers = [
    {
        'name': 'setup-volume',
        'image': TERMINAL_IMAGE,
        'command': ['/opt/workshop/bin/setup-volume', '/opt/app-root', '/mnt/workspace/workspace'],
        'volumeMounts': [{'name': 'workspace', 'mountPath': '/mnt/workspace'}],
        'resources': {
            'requests': {'cpu': '50m', 'memory': '64Mi'},
            'limits': {'cpu': os.environ['CPU_LIMIT'], 'memory': os.environ['MEMORY_SIZE']},
        },
        'securityContext': CONTAINER_SECURITY,
    }
]


def add_probes(spawner):
    """Probe the terminal where it answers: under its prefix, /user/<name>/."""
    prefix = spawner.server.base_url if spawner.server else spawner.user.url
    spawner.extra_container_config = dict(
        spawner.extra_container_config or {},
        readinessProbe={
            'httpGet': {'path': f'{prefix}readyz', 'port': TERMINAL_PORT},
            'periodSeconds': 10,
            'timeoutSeconds': 5,
        },
        livenessProbe={
            'httpGet': {'path': f'{prefix}healthz', 'port': TERMINAL_PORT},
            'initialDelaySeconds': 60,
            'periodSeconds': 20,
            'timeoutSeconds': 5,
            'failureThreshold': 3,
        },
    )


c.KubeSpawner.pre_spawn_hook = add_probes

# ---- Stop terminals nobody has used for IDLE_TIMEOUT seconds (their files stay).
c.JupyterHub.services = [
    {
        'name': 'idle-culler',
        'command': ['python3', '-m', 'jupyterhub_idle_culler', f'--timeout={positive_integer("IDLE_TIMEOUT")}'],
    }
]
c.JupyterHub.load_roles = [
    {
        'name': 'idle-culler',
        'description': 'Stop idle terminals',
        'scopes': ['list:users', 'read:users:activity', 'read:servers', 'delete:servers'],
        'services': ['idle-culler'],
    }
]

# ---- The room: instructors (ADMIN_USERS, the hub's admins) see every attendee's
# progress, failures and raised hands at /services/room/ (see the README). The
# service runs beside the hub in its pod (the hub's image has no Node); stacks post
# their events to it directly, and instructors may watch any terminal.
INSTRUCTOR_SCOPE = 'custom:room:instruct'
c.JupyterHub.custom_scopes = {INSTRUCTOR_SCOPE: {'description': 'Open the room page of the room service'}}
c.JupyterHub.services.append(
    {
        'name': 'room',
        'url': ROOM_URL,
        'api_token': os.environ['ROOM_API_TOKEN'],
        'oauth_no_confirm': True,
        'oauth_client_allowed_scopes': [INSTRUCTOR_SCOPE],
    }
)
c.JupyterHub.load_roles += [
    {
        'name': 'room-service',
        'description': 'Read the users and their servers for the room page',
        'scopes': ['list:users', 'read:users', 'read:servers'],
        'services': ['room'],
    },
    {
        'name': 'instructors',
        'description': 'Open the room page, and watch terminals',
        'scopes': [INSTRUCTOR_SCOPE, 'access:services!service=room', 'access:servers'],
        'users': sorted(c.Authenticator.admin_users),
    },
]
c.KubeSpawner.environment = {
    'ROOM_SERVICE_URL': f'{ROOM_URL}/services/room',
    # The instructors are the hub's admins: their Watch link opens a terminal read-only.
    'ALLOW_HUB_ADMINS': 'true',
}
