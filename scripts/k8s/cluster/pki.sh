# shellcheck shell=bash
# The cluster's certificates, all from one CA made at `up` (DIR/pki, 0600): the apiserver's and
# the kubelet's serving certificates, the client certificates between them, the aggregation
# layer's front proxy (its own CA, as kubeadm does) and metrics-server's serving certificate.
# EC P-256 keys: quick to make, which `up` pays for on every start. Sourced by cluster.sh.

CERT_DAYS=365

# cert NAME CN ORG USAGE SANS: DIR/pki/NAME.{key,crt} signed by CA (default: the cluster CA).
cert() {
  local name="$1" cn="$2" org="$3" usage="$4" sans="$5" ca="${6:-ca}" subj="/CN=$2"
  [[ -n "$org" ]] && subj="/O=$org/CN=$cn"
  (
    cd "$DIR/pki"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subj" \
      -keyout "$name.key" -out "$name.csr" 2>/dev/null
    {
      echo "extendedKeyUsage=$usage"
      echo "basicConstraints=CA:FALSE"
      echo "keyUsage=critical,digitalSignature,keyEncipherment"
      [[ -n "$sans" ]] && echo "subjectAltName=$sans"
    } > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -days "$CERT_DAYS" \
      -extfile "$name.ext" -out "$name.crt" 2>/dev/null
    rm -f "$name.csr" "$name.ext" "$ca.srl"
  )
}

ca() {  # NAME CN
  (cd "$DIR/pki" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$CERT_DAYS" \
    -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$1.key" -out "$1.crt" 2>/dev/null)
}

make_pki() {
  mkdir -p "$DIR/pki"
  ca ca "labforge-$NAME-ca"
  ca front-proxy-ca "labforge-$NAME-front-proxy-ca"
  # The kubelet's HTTPS server, as the apiserver and metrics-server dial it (by InternalIP).
  cert kubelet-serving "system:node:$NODE_NAME" system:nodes serverAuth "IP:$NODE_IP,DNS:$NODE_NAME"
  # The kubelet's identity towards the apiserver (Node authorizer: system:node:NAME in system:nodes).
  cert kubelet-client "system:node:$NODE_NAME" system:nodes clientAuth ""
  # The apiserver towards kubelets (logs, exec, port-forward); the kubelet asks the apiserver
  # whether it may (webhook authorization), and system:masters may.
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters clientAuth ""
  cert front-proxy-client front-proxy-client "" clientAuth "" front-proxy-ca
  cert metrics-server metrics-server "" serverAuth \
    "DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system.svc.cluster.local" ca
}

# A kubeconfig with the CA embedded, so it works wherever it is copied.
write_kubeconfig() {  # FILE USER-LINES...
  local file="$1"; shift
  {
    cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: labforge-$NAME
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(base64 -w0 < "$DIR/pki/ca.crt")
contexts:
- name: labforge-$NAME
  context: {cluster: labforge-$NAME, user: user}
current-context: labforge-$NAME
users:
- name: user
  user:
EOF
    printf '    %s\n' "$@"
  } > "$file"
  chmod 600 "$file"
}
