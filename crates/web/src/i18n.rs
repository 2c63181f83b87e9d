//! The interface speaks Simplified Chinese by default, with Traditional
//! Chinese and English. The language comes from `?lang=`, then the `gz_lang`
//! cookie, then Accept-Language.

use axum::http::{header, HeaderMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    ZhTw,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::ZhTw => "zh-TW",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh-tw") || s.starts_with("zh-hant") || s.starts_with("zh-hk") {
            Some(Lang::ZhTw)
        } else if s.starts_with("zh") {
            Some(Lang::ZhCn)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
    pub fn from_request(query_lang: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(l) = query_lang.and_then(Lang::parse) {
            return l;
        }
        if let Some(l) = crate::session::cookie(headers, "gz_lang").and_then(|c| Lang::parse(&c)) {
            return l;
        }
        // Simplified Chinese is the default whatever the browser's locale; the
        // browser only decides when its first Chinese preference is Traditional.
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        match accept
            .split(',')
            .filter_map(|p| Lang::parse(p.split(';').next().unwrap_or("")))
            .find(|l| *l != Lang::En)
        {
            Some(Lang::ZhTw) => Lang::ZhTw,
            _ => Lang::ZhCn,
        }
    }

    /// Translates a message key. Unknown keys come back as themselves (a test
    /// checks every key used by the templates exists in all three languages).
    pub fn t(self, key: &str) -> &'static str {
        for (k, cn, tw, en) in MESSAGES {
            if *k == key {
                return match self {
                    Lang::ZhCn => cn,
                    Lang::ZhTw => tw,
                    Lang::En => en,
                };
            }
        }
        "??"
    }
}

pub const MESSAGES: &[(&str, &str, &str, &str)] = &[
    ("app", "共治", "共治", "Gongzhi"),
    ("tagline", "小区共治平台", "小區共治平台", "Compound co-governance"),
    ("login", "登录", "登入", "Log in"),
    ("logout", "退出", "登出", "Log out"),
    ("username", "用户名", "使用者名稱", "Username"),
    ("password", "密码", "密碼", "Password"),
    ("login_failed", "用户名或密码错误", "使用者名稱或密碼錯誤", "Unknown username or wrong password"),
    ("login_throttled", "登录失败次数过多，请 {secs} 秒后再试", "登入失敗次數過多，請 {secs} 秒後再試", "Too many failed logins; try again in {secs} s"),
    ("my_places", "我的范围", "我的範圍", "My places"),
    ("places", "下级区域", "下級區域", "Places below"),
    ("parts", "专有部分", "專有部分", "Exclusive parts"),
    ("part_count", "专有部分数", "專有部分數", "Parts"),
    ("number", "房号", "房號", "Number"),
    ("kind", "类型", "類型", "Kind"),
    ("area", "面积(m²)", "面積(m²)", "Area (m²)"),
    ("basis", "面积依据", "面積依據", "Area basis"),
    ("owner", "业主", "業主", "Owner"),
    ("phone", "电话", "電話", "Phone"),
    ("building", "楼栋", "樓棟", "Building"),
    ("unit", "单元", "單元", "Unit"),
    ("grids", "网格", "網格", "Grids"),
    ("households", "户数", "戶數", "Households"),
    ("worker", "网格员", "網格員", "Grid worker"),
    ("organisations", "组织", "組織", "Organisations"),
    ("members", "成员", "成員", "Members"),
    ("role", "职务", "職務", "Role"),
    ("residents", "住户", "住戶", "Residents"),
    ("relation", "关系", "關係", "Relation"),
    ("name", "姓名", "姓名", "Name"),
    ("no_register_access", "您无权查看本区域的业主信息。", "您無權查看本區域的業主資訊。", "You may not see owners here."),
    ("home", "首页", "首頁", "Home"),
    ("language", "语言", "語言", "Language"),
    ("warning", "提示", "提示", "Warning"),
    ("audit", "操作记录", "操作記錄", "Audit trail"),
    ("err.not_found", "未找到，或不在您的范围内", "未找到，或不在您的範圍內", "Not found, or outside your scope"),
    ("err.forbidden", "您无权进行此操作", "您無權進行此操作", "You may not do this"),
    ("err.other", "出错了", "出錯了", "Something went wrong"),
    ("err.page_not_found", "没有这个页面", "沒有這個頁面", "There is no such page"),
    ("err.page_not_found_detail", "网址可能有误，或页面已移走。", "網址可能有誤，或頁面已移走。", "The address may be mistyped, or the page has moved."),
    ("err.not_allowed_here", "您在这里没有权限", "您在這裡沒有權限", "Not allowed here"),
    ("err.back_home", "返回首页", "返回首頁", "Back to the home page"),
    ("err.login_again", "重新登录", "重新登入", "Log in again"),
    ("menu.label", "菜单", "選單", "Menu"),
    ("menu.home", "首页", "首頁", "Home"),
    ("menu.household", "我家", "我家", "My home"),
    ("menu.queue", "工单", "工單", "Queue"),
    ("menu.approvals", "审批", "審批", "Approvals"),
    ("menu.books", "账本", "帳本", "Books"),
    ("menu.votes", "表决", "表決", "Votes"),
    ("menu.matters", "议题", "議題", "Matters"),
    ("menu.cases", "诉求", "訴求", "My cases"),
    ("menu.notifications", "通知", "通知", "Notifications"),
    ("menu.report", "报事", "報事", "Report"),
    ("menu.report_for", "代报", "代報", "Report for…"),
    ("menu.places", "辖区", "轄區", "Places"),
    ("menu.party", "党员报到", "黨員報到", "Party check-in"),
    ("menu.party_branch", "支部", "支部", "Branch"),
    ("menu.employer", "单位回执", "單位回執", "Receipts"),
    ("party.title", "党员回小区", "黨員回小區", "Party member at home"),
    ("party.not_member", "你不在党员名册中。如有疑问，请联系所在小区党支部。", "你不在黨員名冊中。如有疑問，請聯繫所在小區黨支部。", "You are not in the party member register. Ask your compound's branch if this is wrong."),
    ("party.no_receipt", "今年的报到尚未确认，还没有回执。", "今年的報到尚未確認，還沒有回執。", "This year's check-in is not confirmed yet: no receipt."),
    ("party.home", "居住", "居住", "Lives at"),
    ("party.employer", "工作单位", "工作單位", "Employer"),
    ("party.status.in_service", "在职党员", "在職黨員", "In service"),
    ("party.status.retired", "退休党员", "退休黨員", "Retired"),
    ("party.status.flowing", "流动党员", "流動黨員", "Away (flowing)"),
    ("party.checkin_title", "到小区报到", "到小區報到", "Check-in"),
    ("party.checkin.none", "今年尚未报到", "今年尚未報到", "Not checked in this year"),
    ("party.checkin.requested", "已报到，等待支部确认", "已報到，等待支部確認", "Checked in, waiting for the branch"),
    ("party.checkin.confirmed", "支部已确认，回执已开具", "支部已確認，回執已開具", "Confirmed by the branch: receipt issued"),
    ("party.check_in", "我要报到", "我要報到", "Check in"),
    ("party.check_in_hint", "报到后由小区党支部确认，确认后开具报到回执单，可交给工作单位。", "報到後由小區黨支部確認，確認後開具報到回執單，可交給工作單位。", "The compound's branch confirms your check-in and issues a receipt for your employer."),
    ("party.receipt_code", "回执核验码", "回執核驗碼", "Receipt code"),
    ("party.print_receipt", "查看并打印报到回执单", "查看並列印報到回執單", "View and print the receipt"),
    ("party.receipt_title", "在职党员到小区报到回执单", "在職黨員到小區報到回執單", "Check-in receipt of an in-service party member"),
    ("party.receipt_body_1", "兹证明", "茲證明", "This certifies that"),
    ("party.receipt_body_2", "已到", "已到", "has checked in at"),
    ("party.receipt_body_3", "报到。", "報到。", "."),
    ("party.checked_in_on", "确认日期", "確認日期", "Confirmed on"),
    ("party.receipt_verify", "核验：任何人可在本平台输入核验码查验", "核驗：任何人可在本平台輸入核驗碼查驗", "Anyone can verify this code at"),
    ("party.employer_title", "本单位党员报到回执", "本單位黨員報到回執", "Our members' check-in receipts"),
    ("party.no_receipts", "暂无回执。", "暫無回執。", "No receipts yet."),
    ("party.check_title", "核验报到回执", "核驗報到回執", "Verify a check-in receipt"),
    ("party.check", "核验", "核驗", "Verify"),
    ("party.valid", "回执有效", "回執有效", "The receipt is valid"),
    ("party.invalid", "没有这个核验码的回执，请检查是否输入有误。", "沒有這個核驗碼的回執，請檢查是否輸入有誤。", "No receipt has this code: check what was typed."),
    ("party.branch_title", "党员报到", "黨員報到", "Party members"),
    ("party.members", "党员", "黨員", "Members"),
    ("party.checkin_rate", "报到率", "報到率", "Check-in rate"),
    ("party.micro_grids", "有党员的微网格", "有黨員的微網格", "Micro-grids with a member"),
    ("party.micro_grids_hint", "每个微网格至少一名党员", "每個微網格至少一名黨員", "At least one member in every micro-grid"),
    ("party.to_confirm", "待确认的报到", "待確認的報到", "Check-ins to confirm"),
    ("party.confirm", "确认并开具回执", "確認並開具回執", "Confirm and issue the receipt"),
    ("party.record_paper", "登记纸质报到", "登記紙質報到", "Record a paper form"),
    ("party.no_members", "这里还没有党员名册。", "這裡還沒有黨員名冊。", "No party members registered here yet."),
    ("party.done_confirmed", "已确认，回执已开具。", "已確認，回執已開具。", "Confirmed: the receipt is issued."),
    ("party.done_recorded", "纸质报到已登记，请确认。", "紙質報到已登記，請確認。", "Paper form recorded: confirm it below."),
    ("party.unknown_member", "这里没有这名党员", "這裡沒有這名黨員", "no such party member here"),
    ("party.unknown_checkin", "没有这条报到记录", "沒有這條報到記錄", "no such check-in"),
    ("home.hello", "您好，{name}", "您好，{name}", "Hello, {name}"),
    ("home.parts", "我的房屋", "我的房屋", "My household"),
    ("home.open_votes", "进行中的表决", "進行中的表決", "Open votes"),
    ("home.open_cases", "我未办结的诉求", "我未辦結的訴求", "My open cases"),
    ("home.queue", "待办工单", "待辦工單", "Open cases to handle"),
    ("home.overdue", "超期", "逾期", "overdue"),
    ("home.approvals", "待审批的支出", "待審批的支出", "Disbursements awaiting approval"),
    ("home.nothing", "暂无", "暫無", "None"),
    ("home.see", "查看", "查看", "Open"),
    ("err.cross_site", "已拒绝来自其他网站的请求。请在本站页面上操作。", "已拒絕來自其他網站的請求。請在本站頁面上操作。", "A request from another site was refused. Please act from this site's own pages."),
    ("err.csrf", "表单已失效或不完整，请刷新页面后重试。", "表單已失效或不完整，請重新整理頁面後再試。", "The form has expired or is incomplete; reload the page and try again."),
    ("err.control_char", "输入含有不允许的控制字符", "輸入含有不允許的控制字元", "The input contains a control character that is not allowed"),
    ("total_area", "合计面积", "合計面積", "Total area"),
    ("owner.person", "个人", "個人", "Person"),
    ("owner.co_owners", "共有人", "共有人", "Co-owners"),
    ("owner.company", "单位", "單位", "Company"),
    ("owner.developer", "开发商", "開發商", "Developer"),
    ("kind.district", "区", "區", "District"),
    ("kind.street", "街道/镇", "街道/鎮", "Street/town"),
    ("kind.community", "社区", "社區", "Community"),
    ("kind.compound", "小区", "小區", "Compound"),
    ("kind.building", "楼栋", "樓棟", "Building"),
    ("kind.unit", "单元", "單元", "Unit"),
    ("part.flat", "住宅", "住宅", "Flat"),
    ("part.shop", "商铺", "商鋪", "Shop"),
    ("part.parking", "车位", "車位", "Parking"),
    ("basis.registered", "登记面积", "登記面積", "Registered"),
    ("basis.surveyed", "测绘面积", "測繪面積", "Surveyed"),
    ("basis.contract", "合同面积", "合同面積", "Contract"),
    // votes
    ("votes.mine", "我的表决", "我的表決", "My votes"),
    ("votes.none", "目前没有您可参与的表决。", "目前沒有您可參與的表決。", "There is no vote for you at the moment."),
    ("vote.closes", "截止", "截止", "Closes"),
    ("vote.status.draft", "筹备中", "籌備中", "Draft"),
    ("vote.status.open", "投票中", "投票中", "Open"),
    ("vote.status.closed", "已结束", "已結束", "Closed"),
    ("vote.turnout", "参与情况", "參與情況", "Turnout"),
    ("vote.by_area", "按专有面积", "按專有面積", "By floor area"),
    ("vote.by_heads", "按业主人数", "按業主人數", "By owners"),
    ("vote.my_ballot", "我的选票", "我的選票", "My ballot"),
    ("vote.not_voted", "您还没有投票。", "您還沒有投票。", "You have not voted yet."),
    ("vote.current", "当前选择", "目前選擇", "Current choice"),
    ("vote.receipt", "回执码", "回執碼", "Receipt code"),
    ("vote.choice.yes", "同意", "同意", "Yes"),
    ("vote.choice.no", "反对", "反對", "No"),
    ("vote.choice.abstain", "弃权", "棄權", "Abstain"),
    ("vote.recast_too_soon", "改票太频繁：每分钟最多改票 {n} 次，请 {s} 秒后再试。", "改票太頻繁：每分鐘最多改票 {n} 次，請 {s} 秒後再試。", "Ballots may be re-cast at most {n} times a minute: try again in {s} s."),
    ("vote.ballot_cap", "您在本次表决中已投票 {max} 次，达到上限；当前选票有效。", "您在本次表決中已投票 {max} 次，達到上限；目前選票有效。", "You have cast {max} ballots in this vote, the most allowed; your current ballot stands."),
    ("err.too_many", "操作太频繁", "操作太頻繁", "Too many requests"),
    ("vote.change_hint", "截止前可以改票，以最后一次为准。", "截止前可以改票，以最後一次為準。", "You may change your ballot until the vote closes; the last one counts."),
    ("vote.result", "表决结果", "表決結果", "Result"),
    ("vote.passed", "通过", "通過", "Passed"),
    ("vote.failed", "未通过", "未通過", "Not passed"),
    ("vote.record", "下载表决记录（可独立核验）", "下載表決記錄（可獨立核驗）", "Download the vote record (independently verifiable)"),
    ("vote.board", "公示栏", "公示欄", "Public board"),
    ("vote.k.total_area", "总专有面积", "總專有面積", "Total area"),
    ("vote.k.voted_area", "参与表决面积", "參與表決面積", "Participating area"),
    ("vote.k.yes_area", "同意面积", "同意面積", "Yes area"),
    ("vote.k.total_headcount", "业主总人数", "業主總人數", "Total owners"),
    ("vote.k.voted_headcount", "参与表决人数", "參與表決人數", "Participating owners"),
    ("vote.k.yes_headcount", "同意人数", "同意人數", "Yes owners"),
    ("books.title", "公共账目", "公共帳目", "Public books"),
    ("books.balances", "账户余额(元)", "帳戶餘額(元)", "Balances (yuan)"),
    ("books.account", "账户", "帳戶", "Account"),
    ("books.posted", "余额", "餘額", "Balance"),
    ("books.available", "可用(扣除冻结)", "可用(扣除凍結)", "Available (less reserved)"),
    ("books.disbursements", "支出与审批", "支出與審批", "Disbursements and approvals"),
    ("books.purpose", "用途", "用途", "Purpose"),
    ("books.payee", "收款方", "收款方", "Payee"),
    ("books.amount", "金额(元)", "金額(元)", "Amount (yuan)"),
    ("books.state", "状态", "狀態", "State"),
    ("books.approvals", "审批角色", "審批角色", "Approved by (roles)"),
    ("books.documents", "凭证", "憑證", "Documents"),
    ("books.checkpoint", "签名校验点", "簽名校驗點", "Signed checkpoint"),
    ("books.entries", "账目条数", "帳目條數", "Entries"),
    ("books.verify_hint", "任何业主都可以用下面的命令独立核验这本账：每一笔、总根和每个余额。", "任何業主都可以用下面的命令獨立核驗這本帳：每一筆、總根和每個餘額。", "Any owner can check these books independently — every entry, the root and every balance — with:"),
    ("books.state.requested", "已申请", "已申請", "Requested"),
    ("books.state.pending", "待第二人审批(资金已冻结)", "待第二人審批(資金已凍結)", "Awaiting second approval (funds reserved)"),
    ("books.state.posted", "已支付", "已支付", "Paid"),
    ("books.state.voided", "已作废", "已作廢", "Voided"),
    ("books.state.expired", "已过期", "已過期", "Expired"),
    ("cases.mine", "我的诉求", "我的訴求", "My cases"),
    ("cases.report", "我要反映问题", "我要反映問題", "Report a problem"),
    ("cases.queue", "待办工单", "待辦工單", "Work queue"),
    ("cases.reported_at", "反映时间", "反映時間", "Reported"),
    ("cases.category", "类别", "類別", "Category"),
    ("cases.place", "位置", "位置", "Place"),
    ("cases.status", "状态", "狀態", "Status"),
    ("cases.description", "问题描述", "問題描述", "Description"),
    ("cases.submit", "提交", "提交", "Submit"),
    ("cases.case", "诉求", "訴求", "Case"),
    ("cases.overdue", "已超期", "已超期", "Overdue"),
    ("cases.handled_by", "承办", "承辦", "Handled by"),
    ("cases.due", "办结时限", "辦結時限", "Due"),
    ("cases.rating", "评价", "評價", "Rating"),
    ("cases.note", "说明", "說明", "Note"),
    ("cases.comment", "评价意见", "評價意見", "Comment"),
    ("cases.rate", "提交评价", "提交評價", "Rate"),
    ("cases.timeline", "办理过程", "辦理過程", "Timeline"),
    ("cat.repair", "报修", "報修", "Repair"),
    ("cat.environment", "环境卫生", "環境衛生", "Environment"),
    ("cat.safety", "安全隐患", "安全隱患", "Safety"),
    ("cat.parking", "停车", "停車", "Parking"),
    ("cat.noise", "噪音扰民", "噪音擾民", "Noise"),
    ("cat.neighbour_dispute", "邻里纠纷", "鄰里糾紛", "Neighbour dispute"),
    ("cat.fee_complaint", "收费投诉", "收費投訴", "Fee complaint"),
    ("cat.service_complaint", "服务投诉", "服務投訴", "Service complaint"),
    ("cat.suggestion", "意见建议", "意見建議", "Suggestion"),
    ("cat.other", "其他", "其他", "Other"),
    ("st.reported", "已反映", "已反映", "Reported"),
    ("st.accepted", "已受理", "已受理", "Accepted"),
    ("st.rejected", "不予受理", "不予受理", "Rejected"),
    ("st.merged", "已合并", "已合併", "Merged"),
    ("st.assigned", "已派单", "已派單", "Assigned"),
    ("st.in_progress", "办理中", "辦理中", "In progress"),
    ("st.resolved", "已办结", "已辦結", "Resolved"),
    ("st.verified", "已核查", "已核查", "Verified"),
    ("st.closed", "已结案", "已結案", "Closed"),
    ("ev.reported", "反映", "反映", "Reported"),
    ("ev.accepted", "受理", "受理", "Accepted"),
    ("ev.rejected", "不予受理", "不予受理", "Rejected"),
    ("ev.merged", "合并", "合併", "Merged"),
    ("ev.assigned", "派单", "派單", "Assigned"),
    ("ev.started", "开始办理", "開始辦理", "Started"),
    ("ev.resolved", "办结", "辦結", "Resolved"),
    ("ev.verified", "核查", "核查", "Verified"),
    ("ev.closed", "结案", "結案", "Closed"),
    ("ev.reopened", "重新办理", "重新辦理", "Reopened"),
    ("ev.rated", "评价", "評價", "Rated"),
    ("ev.escalated", "上报（吹哨）", "上報（吹哨）", "Escalated"),
    ("ev.commented", "留言", "留言", "Comment"),
    ("ev.photo_added", "上传照片", "上傳照片", "Photo added"),
    ("act.accept", "受理", "受理", "Accept"),
    ("act.reject", "不予受理", "不予受理", "Reject"),
    ("act.assign", "派单", "派單", "Assign"),
    ("act.start", "开始办理", "開始辦理", "Start"),
    ("act.resolve", "办结", "辦結", "Resolve"),
    ("act.verify", "核查通过", "核查通過", "Verify"),
    ("act.close", "结案", "結案", "Close"),
    ("act.reopen", "不满意，重新办理", "不滿意，重新辦理", "Reopen"),
    ("act.escalate", "吹哨上报", "吹哨上報", "Escalate"),
    ("org.street_party_committee", "街道党工委", "街道黨工委", "Street party committee"),
    ("org.community_party_committee", "社区党委", "社區黨委", "Community party committee"),
    ("org.compound_branch", "小区党支部", "小區黨支部", "Compound party branch"),
    ("org.building_party_group", "楼栋党小组", "樓棟黨小組", "Building party group"),
    ("gridkind.community", "社区网格", "社區網格", "Community grid"),
    ("gridkind.compound", "小区网格", "小區網格", "Compound grid"),
    ("gridkind.micro", "微网格", "微網格", "Micro-grid"),
    ("grid.warn_small", "户数少于 30 户", "戶數少於 30 戶", "fewer than 30 households"),
    ("grid.warn_large", "户数多于 100 户", "戶數多於 100 戶", "more than 100 households"),
    ("mrole.secretary", "书记", "書記", "Secretary"),
    ("mrole.deputy_secretary", "副书记", "副書記", "Deputy secretary"),
    ("mrole.chair", "主任", "主任", "Chair"),
    ("mrole.vice_chair", "副主任", "副主任", "Vice chair"),
    ("mrole.member", "成员", "成員", "Member"),
    ("mrole.manager", "经理", "經理", "Manager"),
    ("mrole.staff", "工作人员", "工作人員", "Staff"),
    ("mrole.supervisor", "监督员", "監督員", "Supervisor"),
    ("mrole.mediator", "调解员", "調解員", "Mediator"),
    ("mrole.chief_convener", "总召集人", "總召集人", "Chief convener"),
    ("mrole.vice_convener", "副召集人", "副召集人", "Vice convener"),
    ("mrole.building_convener", "楼栋召集人", "樓棟召集人", "Building convener"),
    ("five.in_service_party_member", "在职党员", "在職黨員", "In-service party member"),
    ("five.community_committee_member", "社区两委成员", "社區兩委成員", "Community committee member"),
    ("five.grid_worker", "网格员", "網格員", "Grid worker"),
    ("five.property_staff", "物业人员", "物業人員", "Property staff"),
    ("five.owners_committee_member", "业委会成员", "業委會成員", "Owners' committee member"),
    ("org.employer_unit", "工作单位", "工作單位", "Employer unit"),
    ("org.owners_committee", "业委会", "業委會", "Owners' committee"),
    ("org.property_management_committee", "物管会", "物管會", "Property management committee"),
    ("org.steward", "物业", "物業", "Steward"),
    ("org.supervision_group", "监督小组", "監督小組", "Supervision group"),
    ("org.mediation_committee", "调委会", "調委會", "Mediation committee"),
    ("org.partner_unit", "共建单位", "共建單位", "Partner unit"),
    ("org.co_governance_team", "共治小组", "共治小組", "Co-governance team"),
    ("org.residents_committee", "居委会", "居委會", "Residents' committee"),
    ("ev.mediation_opened", "转入调解", "轉入調解", "Mediation opened"),
    ("ev.mediation_session", "调解会", "調解會", "Mediation session"),
    ("ev.mediation_concluded", "调解结果", "調解結果", "Mediation concluded"),
    ("med.title", "调解", "調解", "Mediation"),
    ("med.parties", "当事人", "當事人", "Parties"),
    ("med.mediators", "调解组织", "調解組織", "Mediators"),
    ("med.sessions", "调解会", "調解會", "Sessions"),
    ("med.attendees", "到场", "到場", "Attended"),
    ("med.outcome", "调解结果", "調解結果", "Outcome"),
    ("med.pending", "调解中", "調解中", "In mediation"),
    ("med.referred_to", "移交", "移交", "Referred to"),
    ("med.agreement", "达成协议", "達成協議", "Agreement"),
    ("med.failed", "调解不成", "調解不成", "Failed"),
    ("med.referred", "移交处理", "移交處理", "Referred"),
    ("med.side.applicant", "申请人", "申請人", "Applicant"),
    ("med.side.respondent", "被申请人", "被申請人", "Respondent"),
    ("med.side.other", "其他", "其他", "Other"),
    ("notify.unread", "未读通知", "未讀通知", "Unread notifications"),
    ("notify.all", "全部通知", "全部通知", "All notifications"),
    ("notify.title", "通知", "通知", "Notifications"),
    ("notify.new", "未读", "未讀", "New"),
    ("notify.read_all", "全部标为已读", "全部標為已讀", "Mark all read"),
    ("notify.none", "暂无通知。", "暫無通知。", "No notifications."),
    ("board.find", "查找我的回执码", "查找我的回執碼", "Find my receipt code"),
    ("board.search", "查找", "查找", "Search"),
    ("board.found", "找到以下选票。", "找到以下選票。", "Found on the board."),
    ("board.not_found", "公示栏上没有这个回执码。", "公示欄上沒有這個回執碼。", "That receipt code is not on the board."),
    ("board.all", "显示全部", "顯示全部", "Show all"),
    ("board.next", "下一页", "下一頁", "Next page"),
    ("board.first", "第一页", "第一頁", "First page"),
    ("board.empty", "还没有选票。", "還沒有選票。", "No ballots yet."),
    ("board.parts", "房屋", "房屋", "Parts"),
    ("board.name", "业主", "業主", "Owner"),
    ("board.channel", "方式", "方式", "Channel"),
    ("board.cast_at", "时间", "時間", "Cast at"),
    ("board.choice", "选择", "選擇", "Choice"),
    ("vote.channel.online", "网上", "網上", "Online"),
    ("vote.channel.paper", "纸质", "紙本", "Paper"),
    ("vote.channel.proxy", "委托", "委託", "Proxy"),
    // matters (议题) and the vote rule in words
    ("matters.title", "议题", "議題", "Matters"),
    ("matters.none", "这里还没有议题。", "這裡還沒有議題。", "No matters here yet."),
    ("matter.procedure", "议事程序", "議事程序", "Procedure"),
    ("matter.progress", "进度", "進度", "Progress"),
    ("matter.complete", "全部步骤已完成", "全部步驟已完成", "Every step is done"),
    ("matter.step.done", "已完成", "已完成", "Done"),
    ("matter.step.current", "当前步骤", "目前步驟", "Current"),
    ("matter.step.upcoming", "待进行", "待進行", "Upcoming"),
    ("matter.who", "办理人", "辦理人", "Who acts"),
    ("matter.produces", "形成", "形成", "Produces"),
    ("matter.min_days", "距上一步至少 {n} 天", "距上一步至少 {n} 天", "at least {n} days after the previous step"),
    ("matter.max_days", "距上一步至多 {n} 天", "距上一步至多 {n} 天", "at most {n} days after the previous step"),
    ("matter.earliest", "最早可办理时间", "最早可辦理時間", "May be done from"),
    ("matter.latest", "最晚办理时间", "最晚辦理時間", "Must be done by"),
    ("matter.done_at", "办理时间", "辦理時間", "Done at"),
    ("matter.by", "办理", "辦理", "By"),
    ("matter.result", "结果说明", "結果說明", "Result"),
    ("matter.linked_vote", "关联表决", "關聯表決", "Linked vote"),
    ("matter.publication", "公示内容", "公示內容", "Published"),
    ("matter.record", "登记本步骤", "登記本步驟", "Record this step"),
    ("matter.vote_id", "表决编号（如本步骤为表决）", "表決編號（如本步驟為表決）", "Vote id (if this step is a vote)"),
    ("matter.not_yours", "您在本议题范围内没有办理当前步骤的职务。", "您在本議題範圍內沒有辦理目前步驟的職務。", "You hold no role that acts in the current step here."),
    ("matter.recorded", "已登记", "已登記", "Recorded"),
    ("produces.note", "记录", "記錄", "Note"),
    ("produces.document", "文件", "文件", "Document"),
    ("produces.meeting", "会议", "會議", "Meeting"),
    ("produces.vote", "表决", "表決", "Vote"),
    ("produces.publication", "公示", "公示", "Publication"),
    ("role.admin", "系统管理员", "系統管理員", "Administrator"),
    ("role.street_admin", "街道工作人员", "街道工作人員", "Street staff"),
    ("role.community_staff", "社区工作人员", "社區工作人員", "Community staff"),
    ("role.grid_worker", "网格员", "網格員", "Grid worker"),
    ("role.committee_member", "业委会委员", "業委會委員", "Owners' committee member"),
    ("role.supervisor", "监督人", "監督人", "Supervisor"),
    ("role.steward", "物业", "物業", "Steward"),
    ("role.branch_secretary", "党支部书记", "黨支部書記", "Party branch secretary"),
    ("role.auditor", "审计", "審計", "Auditor"),
    ("role.owner", "业主", "業主", "Owner"),
    ("role.resident", "居民", "居民", "Resident"),
    ("role.building_head", "楼栋长", "樓棟長", "Building head"),
    ("rule.civil_ordinary", "《民法典》第二百七十八条一般事项：参与表决的专有面积和人数均不少于总数的三分之二；同意的面积和人数均超过参与表决的二分之一", "《民法典》第二百七十八條一般事項：參與表決的專有面積和人數均不少於總數的三分之二；同意的面積和人數均超過參與表決的二分之一", "Civil Code art. 278, ordinary matter: turnout ≥ 2/3 of total area and of owners; approval > 1/2 of participating area and of participating owners"),
    ("rule.civil_special", "《民法典》第二百七十八条第六至八项：参与表决的专有面积和人数均不少于总数的三分之二；同意的面积和人数均不少于参与表决的四分之三", "《民法典》第二百七十八條第六至八項：參與表決的專有面積和人數均不少於總數的三分之二；同意的面積和人數均不少於參與表決的四分之三", "Civil Code art. 278, matters 6–8: turnout ≥ 2/3 of total area and of owners; approval ≥ 3/4 of participating area and of participating owners"),
    ("rule.custom", "本地规则：同意 {parts}", "本地規則：同意 {parts}", "custom rule: approval {parts}"),
    ("rule.custom_area", "{sym} {base}专有面积的 {f}", "{sym} {base}專有面積的 {f}", "{sym} {f} of {base} area"),
    ("rule.custom_heads", "{sym} {base}业主人数的 {f}", "{sym} {base}業主人數的 {f}", "{sym} {f} of {base} owners"),
    ("rule.and", "，且 ", "，且 ", " and "),
    ("rule.base.eligible", "全体", "全體", "all"),
    ("rule.base.participants", "参与表决", "參與表決", "participating"),
    ("rule.with_turnout", "；参与表决的专有面积和人数均不少于总数的三分之二（第二百七十八条）", "；參與表決的專有面積和人數均不少於總數的三分之二（第二百七十八條）", "; turnout ≥ 2/3 of total area and of owners (art. 278)"),
    ("rule.no_turnout", "；不设参与率要求", "；不設參與率要求", "; no turnout requirement"),
    ("cond.turnout", "参与率", "參與率", "turnout"),
    ("cond.approval", "同意", "同意", "approval"),
    ("cond.shape", "{stage}：{value} {sym} {base}的 {f}", "{stage}：{value} {sym} {base}的 {f}", "{stage}: {value} {sym} {f} of {base}"),
    ("cond.owners", "人", "人", "owners"),
    ("matter.comments", "意见留言", "意見留言", "Comments"),
    ("matter.no_comments", "还没有留言。", "還沒有留言。", "No comments yet."),
    ("matter.your_comment", "我的意见", "我的意見", "Your comment"),
    ("matter.post_comment", "发表", "發表", "Post"),
    ("matter.not_in_scope", "本议题的范围内的业主、居民和工作人员可以留言和答卷。", "本議題範圍內的業主、居民和工作人員可以留言和答卷。", "Owners, residents and staff within this matter's scope may comment and answer."),
    ("matter.questionnaire", "问卷", "問卷", "Questionnaire"),
    ("matter.q_open_until", "截止", "截止", "Open until"),
    ("matter.q_closed", "已截止", "已截止", "Closed"),
    ("matter.respondents", "答卷人数", "答卷人數", "Respondents"),
    ("matter.q_answered", "您已答卷", "您已答卷", "You have answered"),
    ("matter.q_submit", "提交答卷", "提交答卷", "Submit"),
    ("matter.q_replace", "修改答卷（以最后一次为准）", "修改答卷（以最後一次為準）", "Replace my answers (the last counts)"),
    ("matter.door_to_door", "敲门行动", "敲門行動", "Door to door"),
    ("matter.households", "户数", "戶數", "Households"),
    ("matter.reached", "已走访", "已走訪", "Reached"),
    ("matter.not_reached", "未走访", "未走訪", "Not reached yet"),
    ("matter.part", "房号", "房號", "Household"),
    ("matter.visited_on", "走访日期", "走訪日期", "Visited on"),
    ("matter.worker", "走访人", "走訪人", "Visited by"),
    ("matter.opinion", "意见", "意見", "Opinion"),
    ("matter.record_visit", "登记走访", "登記走訪", "Record the visit"),
    ("meeting.kind", "会议类型", "會議類型", "Kind"),
    ("meeting.kind.topic", "专题会", "專題會", "Topic meeting"),
    ("meeting.kind.four_party", "四方联席会", "四方聯席會", "Four-party joint meeting"),
    ("meeting.kind.owners_assembly", "业主大会", "業主大會", "Owners' assembly"),
    ("meeting.agenda", "议程", "議程", "Agenda"),
    ("meeting.participants", "参会人员", "參會人員", "Participants"),
    ("meeting.present", "出席", "出席", "present"),
    ("meeting.announced", "发布通知", "發布通知", "Announced"),
    ("meeting.ics", "加入日历（iCalendar）", "加入日曆（iCalendar）", "Add to calendar (iCalendar)"),
    ("meeting.minutes", "会议纪要", "會議紀要", "Minutes"),
    ("meeting.decisions", "决定事项", "決定事項", "Decisions"),
    ("meeting.decisions_lines", "决定事项（每行一项）", "決定事項（每行一項）", "Decisions (one per line)"),
    ("meeting.attendance", "出席情况", "出席情況", "Attendance"),
    ("meeting.record_minutes", "登记会议纪要", "登記會議紀要", "Record the minutes"),
    ("meeting.save_minutes", "保存纪要", "保存紀要", "Save the minutes"),
    ("meetings.title", "会议", "會議", "Meetings"),
    ("meetings.none", "还没有会议。", "還沒有會議。", "No meetings yet."),
    ("meeting.announce", "发布会议通知", "發布會議通知", "Announce a meeting"),
    ("meeting.title", "会议名称", "會議名稱", "Title"),
    ("meeting.location", "地点", "地點", "Location"),
    ("meeting.starts", "开始时间", "開始時間", "Starts"),
    ("meeting.ends", "结束时间", "結束時間", "Ends"),
    ("meeting.agenda_lines", "议程（每行一项）", "議程（每行一項）", "Agenda (one item per line)"),
    ("meeting.participants_lines", "参会人员（每行一人：姓名，单位或职务）", "參會人員（每行一人：姓名，單位或職務）", "Participants (one per line: name, body or role)"),
    ("matter.q_new", "发布问卷", "發布問卷", "Publish a questionnaire"),
    ("matter.q_closes", "截止时间", "截止時間", "Closes"),
    ("matter.question", "问题", "問題", "Question"),
    ("matter.q_single", "单选", "單選", "Single choice"),
    ("matter.q_multiple", "多选", "多選", "Multiple choice"),
    ("matter.q_text", "填写", "填寫", "Free text"),
    ("matter.q_options", "选项，每行一个", "選項，每行一個", "Options, one per line"),
    ("matter.q_publish", "发布", "發布", "Publish"),
    ("meeting.assembly_notice", "业主大会须提前15日通知。", "業主大會須提前15日通知。", "An owners' assembly must be announced 15 days ahead."),
    ("queue.title", "支出审批", "支出審批", "Approval queue"),
    ("queue.needs", "需要两人、两个不同角色审批", "需要兩人、兩個不同角色審批", "Needs two people in two different roles"),
    ("queue.no_role", "你不持有审批角色,只能查看", "你不持有審批角色,只能查看", "You hold no approver role: view only"),
    ("queue.approved_by", "已审批", "已審批", "Approved by"),
    ("queue.approve", "批准", "批准", "Approve"),
    ("queue.void", "作废", "作廢", "Void"),
    ("queue.reason", "作废理由", "作廢理由", "Reason to void"),
    ("queue.empty", "没有待审批的支出", "沒有待審批的支出", "Nothing awaits approval"),
    ("books.emergency", "紧急使用", "緊急使用", "Emergency use"),
    ("budget.title", "年度预算执行", "年度預算執行", "Budget vs actual"),
    ("budget.none", "本年度尚未经业主表决通过预算", "本年度尚未經業主表決通過預算", "No budget adopted by vote for this year"),
    ("budget.vote", "表决通过", "表決通過", "Adopted by vote"),
    ("budget.category", "类别", "類別", "Category"),
    ("budget.budget", "预算(元)", "預算(元)", "Budget (yuan)"),
    ("budget.actual", "实际(元)", "實際(元)", "Actual (yuan)"),
    ("budget.remaining", "剩余(元)", "剩餘(元)", "Remaining (yuan)"),
    ("budget.used", "执行率(%)", "執行率(%)", "Used (%)"),
    ("audit.title", "维修资金审计(每三年一次)", "維修資金審計(每三年一次)", "Maintenance fund audit (every 3 years)"),
    ("audit.last", "上次审计", "上次審計", "Last audit"),
    ("audit.never", "从未审计", "從未審計", "never"),
    ("audit.due", "审计已到期", "審計已到期", "Audit due"),
    ("audit.next", "下次到期", "下次到期", "next due"),
    ("apidocs.title", "接口文档", "介面文件", "API reference"),
    ("apidocs.operations", "个接口", "個介面", "operations"),
    ("apidocs.intro", "所有接口都在 /api/v1 之下，返回 JSON；出错时返回 RFC 9457 problem+json，并指明出错的字段。登录后用会话 Cookie，或在请求头中带 Authorization: Bearer 令牌。本页由服务器自身的 OpenAPI 文档生成。", "所有介面都在 /api/v1 之下，回傳 JSON；出錯時回傳 RFC 9457 problem+json，並指明出錯的欄位。登入後用工作階段 Cookie，或在請求標頭中帶 Authorization: Bearer 權杖。本頁由伺服器自身的 OpenAPI 文件產生。", "Every operation lives under /api/v1 and answers JSON; errors are RFC 9457 problem+json naming the field at fault. Authenticate with the session cookie after logging in, or with Authorization: Bearer TOKEN. This page is generated from the server's own OpenAPI document."),
    ("apidocs.tag.access", "授权", "授權", "Access"),
    ("apidocs.tag.auth", "登录与令牌", "登入與權杖", "Login and tokens"),
    ("apidocs.tag.books", "公共账目", "公共帳目", "Books"),
    ("apidocs.tag.cases", "诉求", "訴求", "Cases"),
    ("apidocs.tag.party", "党员回小区", "黨員回小區", "Party members at home"),
    ("apidocs.tag.matters", "议事", "議事", "Matters"),
    ("apidocs.tag.meetings", "会议", "會議", "Meetings"),
    ("apidocs.tag.public", "公开(无需登录)", "公開(無需登入)", "Public (no login)"),
    ("apidocs.tag.register", "登记簿", "登記簿", "Register"),
    ("apidocs.tag.votes", "表决", "表決", "Votes"),
    ("apidocs.contents", "目录", "目錄", "Contents"),
    ("apidocs.params", "参数", "參數", "Parameters"),
    ("apidocs.body", "请求体字段", "請求主體欄位", "Request body"),
    ("apidocs.required", "必填", "必填", "required"),
    ("apidocs.responses", "响应", "回應", "Responses"),
    ("vote.spending", "本表决授权从维修资金支出(最多)", "本表決授權從維修資金支出(最多)", "This vote authorises spending from the maintenance fund (at most)"),
    ("vote.yuan", "元", "元", "yuan"),
    ("books.transfers", "本年度全部收支", "本年度全部收支", "Every transfer this year"),
    ("books.transfers_count", "笔", "筆", "transfers"),
    ("books.date", "日期", "日期", "Date"),
    ("books.from", "从(贷方)", "從(貸方)", "From (credit)"),
    ("books.to", "到(借方)", "到(借方)", "To (debit)"),
    ("books.memo", "摘要", "摘要", "Memo"),
    ("books.kind", "类型", "類型", "Kind"),
    ("books.page", "页", "頁", "Page"),
    ("books.newer", "较新", "較新", "Newer"),
    ("books.older", "较早", "較早", "Older"),
    ("books.no_transfers", "本年度尚无收支", "本年度尚無收支", "No transfers this year"),
    ("books.kind.posted", "入账", "入帳", "Posted"),
    ("books.kind.pending", "冻结(待第二人审批)", "凍結(待第二人審批)", "Reserved (awaiting second approval)"),
    ("books.kind.post_pending", "支付(两人审批)", "支付(兩人審批)", "Paid (two approvals)"),
    ("books.kind.void_pending", "解冻", "解凍", "Reservation released"),
    ("acct.bank", "银行存款", "銀行存款", "Bank"),
    ("acct.maintenance_bank", "维修资金专户", "維修資金專戶", "Maintenance fund bank account"),
    ("acct.maintenance_principal", "维修资金本金", "維修資金本金", "Maintenance fund principal"),
    ("acct.maintenance_interest", "维修资金利息", "維修資金利息", "Maintenance fund interest"),
    ("acct.owner_receivables", "应收业主款", "應收業主款", "Owed by owners"),
    ("acct.fee_income", "物业费收入", "物業費收入", "Fee income"),
    ("acct.revenue_advertising", "广告收入", "廣告收入", "Advertising revenue"),
    ("acct.revenue_parking", "停车收入", "停車收入", "Parking revenue"),
    ("acct.revenue_venue", "场地收入", "場地收入", "Venue revenue"),
    ("acct.revenue_other", "其他收入", "其他收入", "Other revenue"),
    ("acct.subsidies", "政府补贴", "政府補貼", "Subsidies"),
    ("acct.steward_remuneration", "物业酬金", "物業酬金", "Steward remuneration"),
    ("acct.expense_repair", "维修支出", "維修支出", "Repairs"),
    ("acct.expense_cleaning", "保洁支出", "保潔支出", "Cleaning"),
    ("acct.expense_security", "秩序维护支出", "秩序維護支出", "Security"),
    ("acct.expense_greening", "绿化支出", "綠化支出", "Greening"),
    ("acct.expense_utilities", "公共水电支出", "公共水電支出", "Common utilities"),
    ("acct.expense_other", "其他支出", "其他支出", "Other expenses"),
    ("acct.dividends_payable", "应付业主分红", "應付業主分紅", "Dividends owed to owners"),
    ("acct.opening_balance", "期初余额", "期初餘額", "Opening balance"),
    ("acct.steward_payable", "应付物业酬金", "應付物業酬金", "Remuneration owed to the steward"),
    ("acct.gateway_clearing", "在线支付待结算", "線上支付待結算", "Online payments awaiting settlement"),
    ("vote.q.seats", "选出 {seats} 名（项），每人最多选 {max} 项", "選出 {seats} 名（項），每人最多選 {max} 項", "{seats} to be chosen; choose up to {max}"),
    ("vote.q.review", "核对选票", "核對選票", "Review your ballot"),
    ("vote.q.review_btn", "核对选票", "核對選票", "Review my ballot"),
    ("vote.q.confirm", "确认投票", "確認投票", "Cast this ballot"),
    ("vote.q.edit", "返回修改", "返回修改", "Change my choices"),
    ("vote.q.none", "弃权（未选）", "棄權（未選）", "Abstain (none chosen)"),
    ("vote.q.answered", "已投票", "已投票", "Voted"),
    ("vote.q.option", "选项", "選項", "Option"),
    ("vote.q.area", "同意面积 m²", "同意面積 m²", "Area m²"),
    ("vote.q.heads", "同意人数", "同意人數", "Owners"),
    ("vote.q.approval", "达到表决规则", "達到表決規則", "Approval met"),
    ("vote.q.elected", "当选", "當選", "Elected"),
    ("vote.q.tie", "末位同票：同票者均不当选，需另行表决。", "末位同票：同票者均不當選，需另行表決。", "Tie at the last seat: none of the tied is elected; a run-off is needed."),
    ("vote.q.turnout_met", "参与率达到要求。", "參與率達到要求。", "Turnout met."),
    ("vote.q.turnout_not_met", "参与率未达到要求，无人当选。", "參與率未達到要求，無人當選。", "Turnout not met: nobody is elected."),
    ("vote.q.too_many", "“{q}”最多选 {max} 项。", "「{q}」最多選 {max} 項。", "“{q}”: choose at most {max}."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_language() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_request(None, &h), Lang::ZhCn);
        h.insert(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9".parse().unwrap());
        assert_eq!(
            Lang::from_request(None, &h),
            Lang::ZhCn,
            "Simplified Chinese unless chosen"
        );
        h.insert(
            header::ACCEPT_LANGUAGE,
            "en-US,zh-TW;q=0.8".parse().unwrap(),
        );
        assert_eq!(Lang::from_request(None, &h), Lang::ZhTw);
        assert_eq!(Lang::from_request(Some("en"), &h), Lang::En);
        assert_eq!(Lang::from_request(Some("zh-TW"), &h), Lang::ZhTw);
        assert_eq!(Lang::ZhTw.t("login"), "登入");
        assert_eq!(Lang::En.t("nope"), "??");
    }

    #[test]
    fn every_template_key_is_translated() {
        let templates = [
            include_str!("../templates/base.html"),
            include_str!("../templates/login.html"),
            include_str!("../templates/home.html"),
            include_str!("../templates/place.html"),
            include_str!("../templates/owner.html"),
            include_str!("../templates/votes.html"),
            include_str!("../templates/vote.html"),
            include_str!("../templates/books.html"),
            include_str!("../templates/cases.html"),
            include_str!("../templates/case_new.html"),
            include_str!("../templates/case.html"),
            include_str!("../templates/queue.html"),
            include_str!("../templates/matters.html"),
            include_str!("../templates/matter.html"),
            include_str!("../templates/matter_steps.html"),
            include_str!("../templates/meeting.html"),
            include_str!("../templates/books_queue.html"),
            include_str!("../templates/books_queue_row.html"),
            include_str!("../templates/api_docs.html"),
            include_str!("../templates/error.html"),
            include_str!("../templates/notifications.html"),
            include_str!("../templates/votes_board.html"),
            include_str!("../templates/vote_review.html"),
        ];
        for t in templates {
            for piece in t.split("t(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(
                    MESSAGES.iter().any(|m| m.0 == key),
                    "missing translation for {key}"
                );
            }
        }
        // Role names are looked up as `role.{role}` (matter pages).
        for role in gongzhi_domain::policy::Role::ALL {
            let key = format!("role.{}", role.as_str());
            assert!(
                MESSAGES.iter().any(|m| m.0 == key),
                "missing translation for {key}"
            );
        }
        // Account codes and transfer kinds are shown by name on the board.
        for k in gongzhi_domain::place::MemberRole::ALL {
            let key = format!("mrole.{}", k.as_str());
            assert!(
                MESSAGES.iter().any(|m| m.0 == key),
                "missing translation for {key}"
            );
        }
        for k in gongzhi_domain::place::FiveMemberType::ALL {
            let key = format!("five.{}", k.as_str());
            assert!(
                MESSAGES.iter().any(|m| m.0 == key),
                "missing translation for {key}"
            );
        }
        for k in gongzhi_domain::place::GridKind::ALL {
            let key = format!("gridkind.{}", k.as_str());
            assert!(
                MESSAGES.iter().any(|m| m.0 == key),
                "missing translation for {key}"
            );
        }
        for k in gongzhi_domain::place::OrgKind::ALL {
            let key = format!("org.{}", k.as_str());
            assert!(
                MESSAGES.iter().any(|m| m.0 == key),
                "missing translation for {key}"
            );
        }
        for code in gongzhi_domain::ledger::AccountCode::ALL {
            let key = format!("acct.{}", code.as_str());
            assert!(
                MESSAGES.iter().any(|m| m.0 == key),
                "missing translation for {key}"
            );
        }
        for kind in gongzhi_domain::ledger::TransferKind::ALL {
            let key = format!("books.kind.{}", kind.as_str());
            assert!(
                MESSAGES.iter().any(|m| m.0 == key),
                "missing translation for {key}"
            );
        }
        for st in ["requested", "pending", "posted", "voided", "expired"] {
            let key = format!("books.state.{st}");
            assert!(
                MESSAGES.iter().any(|m| m.0 == key),
                "missing translation for {key}"
            );
        }
    }
}
