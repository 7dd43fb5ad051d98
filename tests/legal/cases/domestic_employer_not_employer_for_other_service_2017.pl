% Text
% Zoe has never married. Ann did domestic service in Zoe's private home from January 9th to
% December 18th, 2017; Zoe paid her $2000 in cash on December 18th, 2017. On July 1st, 2017 Bo
% repaired Zoe's roof and Zoe paid him $1200 in cash that day. Zoe employed nobody in 2016. Zoe
% was paid $40000 in 2017 and takes the standard deduction.
% By hand: Zoe is an employer for domestic service (§3306(a)(3): $1,000 or more in cash) and the
% service is employment (§3306(c)(2)); for the roof work she is no employer under §3306(a)(1)
% ($1,200, one day; domestic wages not counted) and §3306(a)(4) bars treating her as one.
% Excise tax 6% of $2,000 = $120. Income tax: $40,000 - $3,000 - $2,000 = $35,000:
% §1(c)(ii), $3,315 + 28% of $12,900 = $6,927. Total $7,047.

% Question
% How much tax does zoe have to pay in 2017? $7047

% Facts
:- [statutes/prolog/init].
service_(ann_cleans).
agent_(ann_cleans,ann).
patient_(ann_cleans,zoe).
purpose_(ann_cleans,"domestic service").
location_(ann_cleans,"private home").
start_(ann_cleans,"2017-01-09").
end_(ann_cleans,"2017-12-18").
payment_(zoe_pays_ann).
agent_(zoe_pays_ann,zoe).
patient_(zoe_pays_ann,ann).
purpose_(zoe_pays_ann,ann_cleans).
means_(zoe_pays_ann,"cash").
amount_(zoe_pays_ann,2000).
start_(zoe_pays_ann,"2017-12-18").
service_(bo_repairs_roof).
agent_(bo_repairs_roof,bo).
patient_(bo_repairs_roof,zoe).
start_(bo_repairs_roof,"2017-07-01").
end_(bo_repairs_roof,"2017-07-01").
payment_(zoe_pays_bo).
agent_(zoe_pays_bo,zoe).
patient_(zoe_pays_bo,bo).
purpose_(zoe_pays_bo,bo_repairs_roof).
means_(zoe_pays_bo,"cash").
amount_(zoe_pays_bo,1200).
start_(zoe_pays_bo,"2017-07-01").
payment_(zoe_paid).
patient_(zoe_paid,zoe).
amount_(zoe_paid,40000).
start_(zoe_paid,"2017-12-31").

% Test
:- tax(zoe,2017,7047).
:- halt.
