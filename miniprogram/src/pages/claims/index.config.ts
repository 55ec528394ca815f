export default definePageConfig({ navigationBarTitleText: '我的理赔', enablePullDownRefresh: true });
