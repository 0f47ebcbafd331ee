/// Manifests shared by the tests.
enum Fixtures {
    /// A realistic two-container pod touching most of the modelled fields.
    static let webPod = """
    apiVersion: v1
    kind: Pod
    metadata:
      name: web-1
      namespace: shop
      labels:
        app: web
        app.kubernetes.io/name: web
      annotations:
        example.com/owner: "team-a"
    spec:
      restartPolicy: Always
      terminationGracePeriodSeconds: 45
      hostname: web-1
      nodeSelector:
        kubernetes.io/os: linux
      securityContext:
        runAsUser: 1000
        runAsGroup: 3000
        fsGroup: 2000
        supplementalGroups: [4000, 5000]
        seccompProfile:
          type: RuntimeDefault
        sysctls:
          - name: net.ipv4.ip_unprivileged_port_start
            value: "0"
      tolerations:
        - key: node.kubernetes.io/not-ready
          operator: Exists
          effect: NoExecute
          tolerationSeconds: 300
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - {key: disktype, operator: In, values: [ssd]}
      initContainers:
        - name: migrate
          image: registry.example.com/shop/migrate:1.4
          command: ["/bin/migrate", "--up"]
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - name: http
              containerPort: 80
            - containerPort: 9113
              protocol: TCP
          env:
            - name: MODE
              value: "production"
            - name: PORT
              value: "80"
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: MEM_LIMIT
              valueFrom:
                resourceFieldRef:
                  resource: limits.memory
                  divisor: 1Mi
          envFrom:
            - configMapRef:
                name: web-config
          resources:
            requests:
              cpu: 250m
              memory: 64Mi
            limits:
              cpu: 0.5
              memory: 128Mi
          volumeMounts:
            - name: cache
              mountPath: /var/cache/nginx
            - name: config
              mountPath: /etc/nginx/conf.d
              readOnly: true
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
              httpHeaders:
                - name: X-Probe
                  value: liveness
            initialDelaySeconds: 5
            periodSeconds: 10
          readinessProbe:
            tcpSocket:
              port: 80
          startupProbe:
            exec:
              command: [cat, /tmp/ready]
            failureThreshold: 30
          lifecycle:
            preStop:
              sleep:
                seconds: 5
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
              add: [NET_BIND_SERVICE]
        - name: exporter
          image: prom/nginx-exporter
          args: ["--nginx.scrape-uri=http://localhost/stub_status"]
          resources:
            limits:
              cpu: 100m
              memory: 32Mi
      volumes:
        - name: cache
          emptyDir:
            medium: Memory
            sizeLimit: 64Mi
        - name: config
          configMap:
            name: web-nginx
            defaultMode: 0644
            items:
              - key: default.conf
                path: default.conf
        - name: logs
          hostPath:
            path: /var/log/web
            type: DirectoryOrCreate
    """

    /// The smallest valid pod.
    static let minimalPod = """
    apiVersion: v1
    kind: Pod
    metadata:
      name: app
    spec:
      containers:
        - name: app
          image: busybox
    """
}
